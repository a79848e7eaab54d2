// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IProviderRegistry} from "./interfaces/IProviderRegistry.sol";
import {TokenIntake} from "./TokenIntake.sol";

/// @title ProviderRegistry
/// @notice Providers register here with a stake, an owner key (the registering address), a
/// separate host key that signs usage (which proves it holds the key), a tier, a region and a
/// metadata URI. The stake backs every open agreement at once: each award reserves the
/// agreement's penalty and dispute bond from the free stake (its *exposure*), unbonding can never
/// take the stake below the exposure, and stake that is unbonding stays slashable until it is
/// withdrawn. Only the bound market contract can reserve, record outcomes and slash.
///
/// The record is value-weighted: `completedValue` sums what completed agreements paid, and
/// `failedValue` the value of agreements breached or overturned. The failure rate the award rule
/// prices is smoothed by a prior worth `priorValue` tokens failing at `priorFailureBps`:
///
///     failureBps = (failedValue + priorValue * priorFailureBps / 10000) * 10000
///                  / (completedValue + failedValue + priorValue)
///
/// so a newcomer starts at `priorFailureBps` and a record counts in proportion to the money
/// that backed it, never to the number of jobs.
/// @dev The market is bound once after deployment (the two contracts need each other's address).
contract ProviderRegistry is IProviderRegistry, EIP712, ReentrancyGuard, TokenIntake {
    using SafeERC20 for IERC20;

    /// @dev Four storage slots: the second is the one awards and settlements touch.
    struct Provider {
        address hostKey;
        uint96 stake; // bonded stake, exposure included
        uint96 exposure; // reserved by open agreements (penalty + dispute bond each)
        uint96 completedValue;
        uint32 openAgreements;
        uint32 completed;
        uint96 failedValue;
        uint32 breached;
        uint32 disputesWon;
        uint32 disputesLost;
        uint8 tier;
        uint16 region;
        uint96 unbonding; // leaving, still slashable
        uint40 unbondReadyAt;
    }

    /// @notice The number of tiers: 0 cloud, 1 edge, 2 iot.
    uint8 public constant TIER_COUNT = 3;
    uint256 internal constant BPS = 10_000;
    /// @notice The EIP-712 type a host key signs to prove it belongs to `provider`.
    bytes32 public constant HOST_KEY_TYPEHASH = keccak256("HostKey(address provider,address hostKey)");

    /// @notice The staking token.
    IERC20 public immutable token;
    /// @notice The stake below which a provider may not publish offers or bid.
    uint256 public immutable minStake;
    /// @notice Seconds between an unbond request and the withdrawal.
    uint40 public immutable unbondingDelay;
    /// @notice The weight of the failure-rate prior, in tokens.
    uint96 public immutable priorValue;
    /// @notice The failure rate a provider with no record is assumed to have, in basis points.
    uint16 public immutable priorFailureBps;
    /// @notice The market contract, the only one allowed to reserve stake, record outcomes and slash.
    address public market;
    address private immutable _deployer;

    mapping(address provider => Provider) private _providers;
    mapping(address provider => mapping(address agent => bool)) private _agents;

    /// @notice The market contract was bound.
    event MarketBound(address indexed market);
    /// @notice A provider registered.
    event ProviderRegistered(
        address indexed provider, address hostKey, uint8 tier, uint16 region, uint256 stake, string metadataURI
    );
    /// @notice A provider added stake.
    event StakeAdded(address indexed provider, uint256 amount, uint256 stake);
    /// @notice A provider changed the key that signs its usage reports.
    event HostKeyChanged(address indexed provider, address hostKey);
    /// @notice A provider changed its metadata URI.
    event MetadataChanged(address indexed provider, string metadataURI);
    /// @notice A provider authorised or deauthorised a matchmaker agent key.
    event AgentAuthorised(address indexed provider, address indexed agent, bool authorised);
    /// @notice A provider asked to unbond `amount` (all that is unbonding), withdrawable at `readyAt`.
    event UnbondRequested(address indexed provider, uint256 amount, uint256 stake, uint40 readyAt);
    /// @notice A provider withdrew its unbonded stake.
    event Unbonded(address indexed provider, uint256 amount);
    /// @notice The market slashed `amount` of a provider's stake (bonded, then unbonding).
    event Slashed(address indexed provider, uint256 amount, uint256 stake, uint256 unbonding);
    /// @notice The registry's parameters, emitted once at deployment (indexers compute failure rates with them).
    event RegistryConfigured(
        address token, uint256 minStake, uint40 unbondingDelay, uint96 priorValue, uint16 priorFailureBps
    );
    /// @notice An agreement opened for `provider`, reserving `reserve` of its stake.
    event AgreementOpened(address indexed provider, uint256 reserve, uint256 exposure, uint32 openAgreements);
    /// @notice An agreement of `provider` ended with `outcome`, worth `value` to its record.
    event AgreementClosed(
        address indexed provider, Outcome outcome, uint256 value, uint256 exposure, uint32 openAgreements
    );

    /// @notice The caller is not the deployer binding the market, or the market is bound already.
    error MarketAlreadyBound();
    /// @notice Only the bound market may call this.
    error NotMarket(address caller);
    /// @notice `provider` is registered already.
    error AlreadyRegistered(address provider);
    /// @notice `provider` is not registered.
    error NotRegistered(address provider);
    /// @notice `tier` is not 0 (cloud), 1 (edge) or 2 (iot).
    error InvalidTier(uint8 tier);
    /// @notice The host key is zero, or `proof` is not its signature of the binding to the provider.
    error InvalidHostKey(address hostKey);
    /// @notice `stake` is below the minimum `minStake`.
    error StakeTooLow(uint256 stake, uint256 minStake);
    /// @notice The amount is zero or larger than the stake `available` (stake not reserved by open agreements).
    error InvalidAmount(uint256 amount, uint256 available);
    /// @notice An unbonding is pending or not ready until `readyAt`.
    error UnbondingPending(uint40 readyAt);
    /// @notice There is nothing to withdraw.
    error NothingUnbonding();
    /// @notice A constructor parameter is unusable; `reason` names it.
    error InvalidParameter(string reason);

    modifier onlyMarket() {
        if (msg.sender != market) revert NotMarket(msg.sender);
        _;
    }

    modifier onlyRegistered() {
        if (_providers[msg.sender].hostKey == address(0)) revert NotRegistered(msg.sender);
        _;
    }

    /// @param token_ the staking token (a standard ERC-20: transfers must move exactly the amount asked)
    /// @param minStake_ the minimum stake to be bonded
    /// @param unbondingDelay_ seconds an unbonding waits before withdrawal
    /// @param priorValue_ the weight of the failure-rate prior, in tokens (nonzero)
    /// @param priorFailureBps_ the failure rate assumed for a provider with no record
    constructor(IERC20 token_, uint256 minStake_, uint40 unbondingDelay_, uint96 priorValue_, uint16 priorFailureBps_)
        EIP712("Troupe Registry", "1")
    {
        if (priorValue_ == 0) revert InvalidParameter("priorValue");
        if (priorFailureBps_ > BPS) revert InvalidParameter("priorFailureBps");
        token = token_;
        minStake = minStake_;
        unbondingDelay = unbondingDelay_;
        priorValue = priorValue_;
        priorFailureBps = priorFailureBps_;
        _deployer = msg.sender;
        emit RegistryConfigured(address(token_), minStake_, unbondingDelay_, priorValue_, priorFailureBps_);
    }

    /// @notice Binds the market contract, once, by the deployer.
    /// @param market_ the market contract allowed to reserve stake, record outcomes and slash
    function bindMarket(address market_) external {
        if (msg.sender != _deployer || market != address(0)) revert MarketAlreadyBound();
        market = market_;
        emit MarketBound(market_);
    }

    /// @notice Registers the caller as a provider and stakes `stake` tokens (approve them first).
    /// @param hostKey the key that signs the provider's usage reports
    /// @param tier 0 cloud, 1 edge, 2 iot
    /// @param region the provider's region code
    /// @param stake the stake to deposit, at least `minStake`
    /// @param metadataURI where the provider describes itself (emitted, not stored)
    /// @param hostKeyProof the host key's EIP-712 `HostKey(provider, hostKey)` signature
    function register(
        address hostKey,
        uint8 tier,
        uint16 region,
        uint96 stake,
        string calldata metadataURI,
        bytes calldata hostKeyProof
    ) external nonReentrant {
        Provider storage p = _providers[msg.sender];
        if (p.hostKey != address(0)) revert AlreadyRegistered(msg.sender);
        _checkHostKey(msg.sender, hostKey, hostKeyProof);
        if (tier >= TIER_COUNT) revert InvalidTier(tier);
        if (stake < minStake) revert StakeTooLow(stake, minStake);
        p.hostKey = hostKey;
        p.stake = stake;
        p.tier = tier;
        p.region = region;
        _pullExactly(token, msg.sender, stake);
        emit ProviderRegistered(msg.sender, hostKey, tier, region, stake, metadataURI);
    }

    /// @notice Adds `amount` to the caller's stake.
    /// @param amount tokens to deposit (approve them first)
    function addStake(uint96 amount) external nonReentrant onlyRegistered {
        if (amount == 0) revert InvalidAmount(0, 0);
        Provider storage p = _providers[msg.sender];
        uint96 stake = p.stake + amount;
        p.stake = stake;
        _pullExactly(token, msg.sender, amount);
        emit StakeAdded(msg.sender, amount, stake);
    }

    /// @notice Replaces the key that signs the caller's usage reports.
    /// @param hostKey the new host key
    /// @param hostKeyProof the host key's EIP-712 `HostKey(provider, hostKey)` signature
    function setHostKey(address hostKey, bytes calldata hostKeyProof) external onlyRegistered {
        _checkHostKey(msg.sender, hostKey, hostKeyProof);
        _providers[msg.sender].hostKey = hostKey;
        emit HostKeyChanged(msg.sender, hostKey);
    }

    /// @notice Replaces the caller's metadata URI.
    /// @param metadataURI the new URI (emitted, not stored)
    function setMetadata(string calldata metadataURI) external onlyRegistered {
        emit MetadataChanged(msg.sender, metadataURI);
    }

    /// @notice Authorises or deauthorises a matchmaker agent key to bid for the caller.
    /// @param agent the agent key
    /// @param authorised true to authorise, false to revoke
    function authoriseAgent(address agent, bool authorised) external onlyRegistered {
        _agents[msg.sender][agent] = authorised;
        emit AgentAuthorised(msg.sender, agent, authorised);
    }

    /// @notice Starts unbonding `amount` of the caller's stake. Only stake no open agreement
    /// reserves may leave; it stays slashable until it is withdrawn.
    /// @param amount the stake to unbond
    function requestUnbond(uint96 amount) external onlyRegistered {
        Provider storage p = _providers[msg.sender];
        if (p.unbonding != 0) revert UnbondingPending(p.unbondReadyAt);
        uint256 free = _free(p);
        if (amount == 0 || amount > free) revert InvalidAmount(amount, free);
        uint40 readyAt = uint40(block.timestamp) + unbondingDelay;
        p.stake -= amount;
        p.unbonding = amount;
        p.unbondReadyAt = readyAt;
        emit UnbondRequested(msg.sender, amount, p.stake, readyAt);
    }

    /// @notice Withdraws the caller's unbonded stake (what slashing left of it) once the delay has passed.
    function withdrawUnbonded() external nonReentrant {
        Provider storage p = _providers[msg.sender];
        uint96 amount = p.unbonding;
        if (amount == 0) revert NothingUnbonding();
        if (block.timestamp < p.unbondReadyAt) revert UnbondingPending(p.unbondReadyAt);
        p.unbonding = 0;
        p.unbondReadyAt = 0;
        token.safeTransfer(msg.sender, amount);
        emit Unbonded(msg.sender, amount);
    }

    /// @inheritdoc IProviderRegistry
    function openAgreement(address provider, uint256 reserve) external onlyMarket returns (bool opened) {
        Provider storage p = _providers[provider];
        if (_free(p) < reserve) return false;
        // Casting is safe: exposure + reserve <= stake, which is a uint96.
        // forge-lint: disable-next-line(unsafe-typecast)
        p.exposure += uint96(reserve);
        uint32 open = p.openAgreements + 1;
        p.openAgreements = open;
        emit AgreementOpened(provider, reserve, p.exposure, open);
        return true;
    }

    /// @inheritdoc IProviderRegistry
    function closeAgreement(address provider, Outcome outcome, uint256 reserve, uint256 value) external onlyMarket {
        Provider storage p = _providers[provider];
        // Casting is safe: the reserve was added to the exposure, a uint96, when the agreement opened.
        // forge-lint: disable-next-line(unsafe-typecast)
        p.exposure -= uint96(reserve);
        uint32 open = p.openAgreements - 1;
        p.openAgreements = open;
        // Casting is safe: an agreement's value is bounded by its escrow, a uint96 sum of uint96 terms.
        // forge-lint: disable-next-line(unsafe-typecast)
        uint96 v = uint96(value);
        if (outcome == Outcome.Completed) {
            p.completed += 1;
            p.completedValue += v;
        } else if (outcome == Outcome.DisputeWon) {
            p.completed += 1;
            p.disputesWon += 1;
            p.completedValue += v;
        } else if (outcome == Outcome.Breached) {
            p.breached += 1;
            p.failedValue += v;
        } else if (outcome == Outcome.DisputeLost) {
            p.disputesLost += 1;
            p.failedValue += v;
        }
        emit AgreementClosed(provider, outcome, value, p.exposure, open);
    }

    /// @inheritdoc IProviderRegistry
    function slash(address provider, uint256 amount, address to)
        external
        onlyMarket
        nonReentrant
        returns (uint256 slashed)
    {
        Provider storage p = _providers[provider];
        uint96 stake = p.stake;
        uint96 unbonding = p.unbonding;
        slashed = amount < uint256(stake) + unbonding ? amount : uint256(stake) + unbonding;
        // Casting is safe: each part is at most a uint96 it is subtracted from.
        // forge-lint: disable-next-line(unsafe-typecast)
        uint96 fromStake = slashed < stake ? uint96(slashed) : stake;
        p.stake = stake - fromStake;
        // forge-lint: disable-next-line(unsafe-typecast)
        p.unbonding = unbonding - uint96(slashed - fromStake);
        if (slashed != 0) token.safeTransfer(to, slashed);
        emit Slashed(provider, slashed, p.stake, p.unbonding);
    }

    /// @inheritdoc IProviderRegistry
    function bidderProfile(address provider, address agent)
        external
        view
        returns (uint8 tier, bool bonded, bool authorised, uint16 failureBps, uint256 freeStake)
    {
        Provider storage p = _providers[provider];
        tier = p.tier;
        bonded = p.hostKey != address(0) && p.stake >= minStake;
        authorised = agent == provider || _agents[provider][agent];
        failureBps = _failureBps(p);
        freeStake = _free(p);
    }

    /// @inheritdoc IProviderRegistry
    function hostKeyOf(address provider) external view returns (address) {
        return _providers[provider].hostKey;
    }

    /// @notice Whether `provider` is registered with at least the minimum stake.
    function isBonded(address provider) external view returns (bool) {
        Provider storage p = _providers[provider];
        return p.hostKey != address(0) && p.stake >= minStake;
    }

    /// @inheritdoc IProviderRegistry
    function isAgent(address provider, address agent) external view returns (bool) {
        return agent == provider || _agents[provider][agent];
    }

    /// @notice The whole record of `provider`.
    function providerOf(address provider_) external view returns (Provider memory) {
        return _providers[provider_];
    }

    /// @notice The smoothed, value-weighted failure rate of `provider` in basis points (see the contract's header).
    function failureBpsOf(address provider_) external view returns (uint16) {
        return _failureBps(_providers[provider_]);
    }

    /// @notice The reputation score of `provider` in basis points: 10000 minus its failure rate.
    function reputationOf(address provider_) external view returns (uint16) {
        return uint16(BPS) - _failureBps(_providers[provider_]);
    }

    /// @notice The digest a host key signs to prove it belongs to `provider`.
    function hostKeyDigest(address provider, address hostKey) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(HOST_KEY_TYPEHASH, provider, hostKey)));
    }

    function _checkHostKey(address provider, address hostKey, bytes calldata proof) private view {
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(hostKeyDigest(provider, hostKey), proof);
        if (hostKey == address(0) || err != ECDSA.RecoverError.NoError || signer != hostKey) {
            revert InvalidHostKey(hostKey);
        }
    }

    function _free(Provider storage p) private view returns (uint256) {
        return p.stake > p.exposure ? p.stake - p.exposure : 0;
    }

    function _failureBps(Provider storage p) private view returns (uint16) {
        uint256 prior = uint256(priorValue);
        uint256 failed = uint256(p.failedValue) * BPS + prior * priorFailureBps;
        // Casting is safe: failed <= all * BPS, so the quotient is at most 10000.
        // forge-lint: disable-next-line(unsafe-typecast)
        return uint16(failed / (uint256(p.completedValue) + p.failedValue + prior));
    }
}
