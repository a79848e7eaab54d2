// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IProviderRegistry} from "./interfaces/IProviderRegistry.sol";

/// @title ProviderRegistry
/// @notice Providers register here with a stake, an owner key (the registering address), a
/// separate host key that signs usage, a tier, a region and a metadata URI. The stake backs their
/// promises: only the bound market contract can slash it, and it can only leave after an
/// unbonding delay with no agreement open. Reputation counters live here, on chain.
/// @dev The market is bound once after deployment (the two contracts need each other's address).
contract ProviderRegistry is IProviderRegistry, ReentrancyGuard {
    using SafeERC20 for IERC20;

    /// @dev Three storage slots; settlement touches only the second.
    struct Provider {
        address hostKey;
        uint96 stake;
        uint96 unbonding;
        uint40 unbondReadyAt;
        uint8 tier;
        uint16 region;
        bool verifier;
        uint32 openAgreements;
        uint32 completed;
        uint32 breached;
        uint32 disputesWon;
        uint32 disputesLost;
    }

    /// @notice The number of tiers: 0 cloud, 1 edge, 2 iot.
    uint8 public constant TIER_COUNT = 3;

    /// @notice The staking token.
    IERC20 public immutable token;
    /// @notice The stake below which a provider may not publish offers or bid.
    uint256 public immutable minStake;
    /// @notice Seconds between an unbond request and the withdrawal.
    uint40 public immutable unbondingDelay;
    /// @notice The market contract, the only one allowed to record outcomes and slash.
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
    /// @notice A provider opted in or out of verifying disputed jobs.
    event VerifierChanged(address indexed provider, bool verifier);
    /// @notice A provider asked to unbond `amount`, withdrawable at `readyAt`.
    event UnbondRequested(address indexed provider, uint256 amount, uint256 stake, uint40 readyAt);
    /// @notice A provider withdrew its unbonded stake.
    event Unbonded(address indexed provider, uint256 amount);
    /// @notice The market slashed `amount` of a provider's stake.
    event Slashed(address indexed provider, uint256 amount, uint256 stake);
    /// @notice A provider's agreement counters changed.
    event ReputationChanged(
        address indexed provider,
        uint32 openAgreements,
        uint32 completed,
        uint32 breached,
        uint32 disputesWon,
        uint32 disputesLost
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
    /// @notice The host key may not be zero.
    error ZeroHostKey();
    /// @notice `stake` is below the minimum `minStake`.
    error StakeTooLow(uint256 stake, uint256 minStake);
    /// @notice The amount is zero or larger than the stake `available`.
    error InvalidAmount(uint256 amount, uint256 available);
    /// @notice The provider still has `open` agreements and may not unbond.
    error AgreementsOpen(address provider, uint32 open);
    /// @notice An unbonding is pending or not ready until `readyAt`.
    error UnbondingPending(uint40 readyAt);
    /// @notice There is nothing to withdraw.
    error NothingUnbonding();

    modifier onlyMarket() {
        if (msg.sender != market) revert NotMarket(msg.sender);
        _;
    }

    modifier onlyRegistered() {
        if (_providers[msg.sender].hostKey == address(0)) revert NotRegistered(msg.sender);
        _;
    }

    /// @param token_ the staking token (any ERC-20)
    /// @param minStake_ the minimum stake to be bonded
    /// @param unbondingDelay_ seconds an unbonding waits before withdrawal
    constructor(IERC20 token_, uint256 minStake_, uint40 unbondingDelay_) {
        token = token_;
        minStake = minStake_;
        unbondingDelay = unbondingDelay_;
        _deployer = msg.sender;
    }

    /// @notice Binds the market contract, once, by the deployer.
    /// @param market_ the market contract allowed to record outcomes and slash
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
    function register(address hostKey, uint8 tier, uint16 region, uint96 stake, string calldata metadataURI)
        external
        nonReentrant
    {
        Provider storage p = _providers[msg.sender];
        if (p.hostKey != address(0)) revert AlreadyRegistered(msg.sender);
        if (hostKey == address(0)) revert ZeroHostKey();
        if (tier >= TIER_COUNT) revert InvalidTier(tier);
        if (stake < minStake) revert StakeTooLow(stake, minStake);
        p.hostKey = hostKey;
        p.stake = stake;
        p.tier = tier;
        p.region = region;
        token.safeTransferFrom(msg.sender, address(this), stake);
        emit ProviderRegistered(msg.sender, hostKey, tier, region, stake, metadataURI);
    }

    /// @notice Adds `amount` to the caller's stake.
    /// @param amount tokens to deposit (approve them first)
    function addStake(uint96 amount) external nonReentrant onlyRegistered {
        if (amount == 0) revert InvalidAmount(0, 0);
        Provider storage p = _providers[msg.sender];
        uint96 stake = p.stake + amount;
        p.stake = stake;
        token.safeTransferFrom(msg.sender, address(this), amount);
        emit StakeAdded(msg.sender, amount, stake);
    }

    /// @notice Replaces the key that signs the caller's usage reports.
    /// @param hostKey the new host key
    function setHostKey(address hostKey) external onlyRegistered {
        if (hostKey == address(0)) revert ZeroHostKey();
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

    /// @notice Opts the caller in or out of verifying disputed jobs.
    /// @param verifier true to be drawn as a verifier
    function setVerifier(bool verifier) external onlyRegistered {
        _providers[msg.sender].verifier = verifier;
        emit VerifierChanged(msg.sender, verifier);
    }

    /// @notice Starts unbonding `amount` of the caller's stake; allowed only with no agreement open.
    /// @param amount the stake to unbond
    function requestUnbond(uint96 amount) external onlyRegistered {
        Provider storage p = _providers[msg.sender];
        if (p.openAgreements != 0) revert AgreementsOpen(msg.sender, p.openAgreements);
        if (p.unbonding != 0) revert UnbondingPending(p.unbondReadyAt);
        if (amount == 0 || amount > p.stake) revert InvalidAmount(amount, p.stake);
        uint40 readyAt = uint40(block.timestamp) + unbondingDelay;
        p.stake -= amount;
        p.unbonding = amount;
        p.unbondReadyAt = readyAt;
        emit UnbondRequested(msg.sender, amount, p.stake, readyAt);
    }

    /// @notice Withdraws the caller's unbonded stake once the delay has passed.
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
    function openAgreement(address provider) external onlyMarket {
        Provider storage p = _providers[provider];
        p.openAgreements += 1;
        _emitReputation(provider, p);
    }

    /// @inheritdoc IProviderRegistry
    function closeAgreement(address provider, Outcome outcome) external onlyMarket {
        Provider storage p = _providers[provider];
        p.openAgreements -= 1;
        if (outcome == Outcome.Completed) {
            p.completed += 1;
        } else if (outcome == Outcome.Breached) {
            p.breached += 1;
        } else if (outcome == Outcome.DisputeWon) {
            p.completed += 1;
            p.disputesWon += 1;
        } else {
            p.disputesLost += 1;
        }
        _emitReputation(provider, p);
    }

    /// @inheritdoc IProviderRegistry
    function slash(address provider, uint256 amount) external onlyMarket nonReentrant returns (uint256 slashed) {
        Provider storage p = _providers[provider];
        uint96 stake = p.stake;
        slashed = amount < stake ? amount : stake;
        // Casting is safe: slashed <= stake, which is a uint96.
        // forge-lint: disable-next-line(unsafe-typecast)
        p.stake = stake - uint96(slashed);
        if (slashed != 0) token.safeTransfer(msg.sender, slashed);
        emit Slashed(provider, slashed, p.stake);
    }

    /// @inheritdoc IProviderRegistry
    function bidderProfile(address provider, address agent)
        external
        view
        returns (uint8 tier, bool bonded, bool authorised, uint16 reputation)
    {
        Provider storage p = _providers[provider];
        tier = p.tier;
        bonded = p.hostKey != address(0) && p.stake >= minStake;
        authorised = agent == provider || _agents[provider][agent];
        reputation = _reputation(p);
    }

    /// @inheritdoc IProviderRegistry
    function hostKeyOf(address provider) external view returns (address) {
        return _providers[provider].hostKey;
    }

    /// @inheritdoc IProviderRegistry
    function isVerifier(address provider) external view returns (bool) {
        Provider storage p = _providers[provider];
        return p.verifier && p.hostKey != address(0) && p.stake >= minStake;
    }

    /// @notice Whether `provider` is registered with at least the minimum stake.
    function isBonded(address provider) external view returns (bool) {
        Provider storage p = _providers[provider];
        return p.hostKey != address(0) && p.stake >= minStake;
    }

    /// @notice Whether `agent` may bid for `provider`.
    function isAgent(address provider, address agent) external view returns (bool) {
        return agent == provider || _agents[provider][agent];
    }

    /// @notice The whole record of `provider`.
    function providerOf(address provider_) external view returns (Provider memory) {
        return _providers[provider_];
    }

    /// @notice The reputation score of `provider` in basis points: the Laplace-smoothed share of
    /// agreements it completed, (completed + 1) * 10000 / (completed + breached + disputesLost + 2).
    /// A newcomer scores 5000.
    function reputationOf(address provider_) external view returns (uint16) {
        return _reputation(_providers[provider_]);
    }

    function _reputation(Provider storage p) private view returns (uint16) {
        uint256 good = uint256(p.completed) + 1;
        uint256 all = good + p.breached + p.disputesLost + 1;
        // Casting is safe: the quotient is at most 10000.
        // forge-lint: disable-next-line(unsafe-typecast)
        return uint16((good * 10_000) / all);
    }

    function _emitReputation(address provider_, Provider storage p) private {
        emit ReputationChanged(provider_, p.openAgreements, p.completed, p.breached, p.disputesWon, p.disputesLost);
    }
}
