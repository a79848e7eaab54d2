// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {IProviderRegistry} from "../interfaces/IProviderRegistry.sol";
import {IOfferBook} from "../interfaces/IOfferBook.sol";
import {IVerifierCourt} from "../interfaces/IVerifierCourt.sol";
import {TokenIntake} from "../TokenIntake.sol";
import {Status, CloseReason, Ruling, Request, Bid, StoredReport} from "./MarketTypes.sol";

/// @title MarketBase
/// @notice The market's shared state, parameters, events and errors. The auction, settlement and
/// dispute parts each live in their own contract on top of it; they share one address so the
/// escrows and payouts never cross a contract boundary. Disputes are judged by the verifier
/// court, a contract of its own that holds the bonds and the verifiers' stakes.
abstract contract MarketBase is EIP712, ReentrancyGuard, TokenIntake {
    using SafeERC20 for IERC20;

    /// @notice Deployment parameters of a market.
    struct Config {
        IERC20 token;
        IProviderRegistry registry;
        IOfferBook offers;
        IVerifierCourt court;
        uint40 disputeWindow; // seconds after a report in which the consumer may dispute
        uint16 penaltyBps; // penalty for a breach or a rejected report, in bps of the agreement's value
        uint96 disputeBond; // what a consumer posts to dispute, and a losing provider's verification fee
        uint96 minEscrow; // the smallest escrow a request may carry
        uint16 minBidStepBps; // how much a provider's replacement bid must undercut its previous total
    }

    uint256 internal constant FUEL_UNIT = 1_000_000;
    uint256 internal constant BPS = 10_000;
    /// @dev Report outcome 6: the host could not fetch the consumer's content (or it had another hash).
    uint8 internal constant OUTCOME_UNAVAILABLE = 6;

    /// @notice The payment token (a standard ERC-20; intakes check what arrived).
    IERC20 public immutable token;
    /// @notice The provider registry.
    IProviderRegistry public immutable registry;
    /// @notice The offer book.
    IOfferBook public immutable offers;
    /// @notice The verifier court that judges disputed reports.
    IVerifierCourt public immutable court;
    /// @notice Seconds after a report in which the consumer may dispute it.
    uint40 public immutable disputeWindow;
    /// @notice The penalty, in basis points of the agreement's maximum value.
    uint16 public immutable penaltyBps;
    /// @notice The bond a consumer posts to dispute a report; a provider whose report falls pays as much.
    uint96 public immutable disputeBond;
    /// @notice The smallest escrow a request may carry.
    uint96 public immutable minEscrow;
    /// @notice The least a replacement bid must undercut the provider's previous total, in basis points.
    uint16 public immutable minBidStepBps;

    /// @notice The number of requests ever posted; ids run from 1.
    uint256 public requestCount;

    mapping(uint256 id => Request) internal _requests;
    mapping(uint256 id => mapping(address provider => Bid)) internal _bids;
    mapping(uint256 id => StoredReport) internal _reports;

    /// @notice A consumer posted a deployment request and escrowed `escrow`.
    event RequestPosted(
        uint256 indexed requestId,
        address indexed consumer,
        bytes32 workloadHash,
        string workloadURI,
        bytes32 inputHash,
        string inputURI,
        uint64 maxFuel,
        uint96 maxPricePerMFuel,
        uint96 maxFee,
        uint16 minMemoryMiB,
        uint8 allowedTiers,
        uint16 region,
        uint8 maxLatencyClass,
        uint40 bidWindowEnd,
        uint32 execTime,
        uint40 deadline,
        uint16 meteringVersion,
        uint96 valueAtRisk,
        uint256 escrow
    );
    /// @notice An agent bid for a provider; `expectedCost` is what the award rule ranks it by, and
    /// `explanationHash` points at the agent's reasons, off chain.
    event BidPlaced(
        uint256 indexed requestId,
        address indexed provider,
        uint256 indexed offerId,
        address agent,
        uint96 pricePerMFuel,
        uint96 fee,
        uint16 failureBps,
        uint256 expectedCost,
        bytes32 explanationHash
    );
    /// @notice A request ended without an agreement and its escrow went back.
    event RequestClosed(uint256 indexed requestId, Status status, CloseReason reason, uint256 refund);
    /// @notice A request was awarded: the agreement (the SLA) exists from now on, with the same id.
    event AgreementCreated(
        uint256 indexed agreementId,
        address indexed provider,
        address indexed consumer,
        uint256 offerId,
        uint96 pricePerMFuel,
        uint96 fee,
        uint64 maxFuel,
        uint40 deadline,
        uint256 penalty,
        uint40 disputeWindow,
        bool acceptedEarly
    );
    /// @notice The provider's host reported usage.
    event UsageReported(
        uint256 indexed agreementId,
        address indexed provider,
        uint64 fuelUsed,
        uint32 peakMemoryPages,
        uint32 wallMs,
        uint8 outcome,
        uint32 exitCode,
        bytes32 outputHash,
        uint16 meteringVersion,
        uint64 nonce
    );
    /// @notice An agreement was paid out by its report.
    event AgreementSettled(
        uint256 indexed agreementId, uint256 providerPayment, uint256 consumerRefund, bool cosigned
    );
    /// @notice No report came by the deadline: the consumer got its escrow and `penalty`.
    event AgreementBreached(uint256 indexed agreementId, uint256 refund, uint256 penalty);
    /// @notice The consumer disputed the report and posted `bond` with the verifier court.
    event DisputeOpened(uint256 indexed agreementId, address indexed consumer, uint256 bond);
    /// @notice The court's final ruling was carried out. `slashed` came out of the provider's stake
    /// (`penalty` to the consumer, the rest to the court as its verification fee).
    event DisputeResolved(
        uint256 indexed agreementId,
        Ruling ruling,
        uint256 providerPayment,
        uint256 consumerRefund,
        uint256 penalty,
        uint256 slashed
    );

    /// @notice Request or agreement `id` is in `actual`, not a state this call accepts.
    error InvalidStatus(uint256 id, Status actual);
    /// @notice The request's parameters are unusable; `reason` names the field.
    error InvalidRequest(string reason);
    /// @notice A constructor parameter is unusable; `reason` names it.
    error InvalidConfig(string reason);
    /// @notice Only the consumer of `id` may do this.
    error NotConsumer(uint256 id, address caller);
    /// @notice Only the verifier court may do this.
    error NotCourt(address caller);
    /// @notice `agent` may not bid for `provider`.
    error UnauthorisedAgent(address provider, address agent);
    /// @notice The consumer of a request may not bid on it, for itself or as an agent.
    error SelfDealing(uint256 id, address bidder);
    /// @notice The bid's offer does not satisfy the request; `reason` names the requirement.
    error OfferMismatch(uint256 offerId, string reason);
    /// @notice The bid's price or fee is above the request's maximum or below the offer's floor.
    error BidOutOfRange(uint256 price, uint256 fee);
    /// @notice A replacement bid must total at most `maxTotal` (the previous total less the minimum step).
    error BidNotLower(uint256 previousTotal, uint256 maxTotal, uint256 total);
    /// @notice The provider's free stake `freeStake` does not cover the agreement's reserve `needed`.
    error StakeShort(address provider, uint256 freeStake, uint256 needed);
    /// @notice The bid window of `id` closed at `bidWindowEnd`.
    error BidWindowClosed(uint256 id, uint40 bidWindowEnd);
    /// @notice The bid window of `id` is open until `bidWindowEnd`.
    error BidWindowOpen(uint256 id, uint40 bidWindowEnd);
    /// @notice `provider` has no live bid on `id`.
    error NoSuchBid(uint256 id, address provider);
    /// @notice Accepting now would give the provider until `agreementDeadline`, past the request's `deadline`.
    error TooLate(uint256 id, uint40 agreementDeadline, uint40 deadline);
    /// @notice The request already has bids and can no longer be cancelled.
    error HasBids(uint256 id);
    /// @notice The signature does not come from `expected`.
    error WrongSigner(address expected, address recovered);
    /// @notice The deadline of `id`, `deadline`, has passed.
    error DeadlinePassed(uint256 id, uint40 deadline);
    /// @notice The deadline of `id`, `deadline`, has not passed yet.
    error DeadlineNotPassed(uint256 id, uint40 deadline);
    /// @notice The dispute window of `id` ends at `windowEnd`: the call came on the wrong side of it.
    error DisputeWindow(uint256 id, uint256 windowEnd);
    /// @notice The report used metering version `got`; the request fixed `expected`.
    error MeteringVersionMismatch(uint16 expected, uint16 got);
    /// @notice The report is malformed; `reason` names the field.
    error InvalidReport(string reason);

    modifier onlyCourt() {
        if (msg.sender != address(court)) revert NotCourt(msg.sender);
        _;
    }

    constructor(Config memory c) EIP712("Troupe Market", "1") {
        if (c.penaltyBps > BPS) revert InvalidConfig("penaltyBps");
        if (c.minBidStepBps == 0 || c.minBidStepBps >= BPS) revert InvalidConfig("minBidStepBps");
        if (c.minEscrow == 0) revert InvalidConfig("minEscrow");
        token = c.token;
        registry = c.registry;
        offers = c.offers;
        court = c.court;
        disputeWindow = c.disputeWindow;
        penaltyBps = c.penaltyBps;
        disputeBond = c.disputeBond;
        minEscrow = c.minEscrow;
        minBidStepBps = c.minBidStepBps;
    }

    /// @notice The stored state of request (or agreement) `id`.
    function request(uint256 id) external view returns (Request memory) {
        return _requests[id];
    }

    /// @notice The live bid of `provider` on request `id` (zero if none).
    function bidOf(uint256 id, address provider) external view returns (Bid memory) {
        return _bids[id][provider];
    }

    /// @notice The report of agreement `id` while it waits out its dispute window or a dispute.
    function reportOf(uint256 id) external view returns (StoredReport memory) {
        return _reports[id];
    }

    /// @notice The EIP-712 domain separator reports and acceptances are signed under.
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @dev What a consumer escrows: the most the request can cost.
    function _escrowOf(Request storage r) internal view returns (uint256) {
        return _totalOf(r, r.maxPricePerMFuel, r.maxFee);
    }

    /// @dev The price of a request's whole fuel cap at `pricePerMFuel` plus `fee`.
    function _totalOf(Request storage r, uint256 pricePerMFuel, uint256 fee) internal view returns (uint256) {
        return (uint256(r.maxFuel) * pricePerMFuel) / FUEL_UNIT + fee;
    }

    /// @dev The most an agreement can pay the provider under its winning bid.
    function _valueOf(Request storage r, Bid storage b) internal view returns (uint256) {
        return _totalOf(r, b.pricePerMFuel, b.fee);
    }

    function _penaltyOf(uint256 value) internal view returns (uint256) {
        return (value * penaltyBps) / BPS;
    }

    /// @dev What an agreement of `value` reserves of its provider's stake: its penalty and the
    /// verification fee the provider would owe if its report fell.
    function _reserveOf(uint256 value) internal view returns (uint256) {
        return _penaltyOf(value) + disputeBond;
    }

    function _requireStatus(uint256 id, Request storage r, Status expected) internal view {
        if (r.status != expected) revert InvalidStatus(id, r.status);
    }

    function _pay(address to, uint256 amount) internal {
        if (amount != 0) token.safeTransfer(to, amount);
    }
}
