// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {IProviderRegistry} from "../interfaces/IProviderRegistry.sol";
import {IOfferBook} from "../interfaces/IOfferBook.sol";
import {Status, Request, Bid, StoredReport, Dispute} from "./MarketTypes.sol";

/// @title MarketBase
/// @notice The market's shared state, parameters, events and errors. The auction, settlement and
/// dispute parts each live in their own contract on top of it; they share one address so the
/// escrow, bonds and payouts never cross a contract boundary.
abstract contract MarketBase is EIP712, ReentrancyGuard {
    using SafeERC20 for IERC20;

    /// @notice Deployment parameters of a market.
    struct Config {
        IERC20 token;
        IProviderRegistry registry;
        IOfferBook offers;
        uint40 disputeWindow; // seconds after a report in which the consumer may dispute
        uint40 verdictWindow; // seconds verifiers have to reach a quorum
        uint16 penaltyBps; // penalty for a breach or a rejected report, in bps of the agreement's value
        uint96 disputeBond; // what a consumer posts to dispute
        uint8 verifierQuorum; // M: matching verdicts that decide a dispute
        uint8 verifierPanel; // N: the most verdicts a dispute takes
    }

    uint256 internal constant FUEL_UNIT = 1_000_000;
    uint256 internal constant BPS = 10_000;

    /// @notice The payment token (any ERC-20, moved only with SafeERC20).
    IERC20 public immutable token;
    /// @notice The provider registry.
    IProviderRegistry public immutable registry;
    /// @notice The offer book.
    IOfferBook public immutable offers;
    /// @notice Seconds after a report in which the consumer may dispute it.
    uint40 public immutable disputeWindow;
    /// @notice Seconds verifiers have to reach a quorum on a dispute.
    uint40 public immutable verdictWindow;
    /// @notice The penalty, in basis points of the agreement's maximum value.
    uint16 public immutable penaltyBps;
    /// @notice The bond a consumer posts to dispute a report.
    uint96 public immutable disputeBond;
    /// @notice Matching verdicts needed to decide a dispute (M).
    uint8 public immutable verifierQuorum;
    /// @notice The most verdicts a dispute accepts (N).
    uint8 public immutable verifierPanel;

    /// @notice The number of requests ever posted; ids run from 1.
    uint256 public requestCount;

    mapping(uint256 id => Request) internal _requests;
    mapping(uint256 id => mapping(address provider => Bid)) internal _bids;
    mapping(uint256 id => StoredReport) internal _reports;
    mapping(uint256 id => Dispute) internal _disputes;

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
        uint32 minMemoryMiB,
        uint8 allowedTiers,
        uint16 region,
        uint8 maxLatencyClass,
        uint40 bidWindowEnd,
        uint40 deadline,
        uint256 escrow
    );
    /// @notice An agent bid for a provider; `explanationHash` points at the agent's reasons, off chain.
    event BidPlaced(
        uint256 indexed requestId,
        address indexed provider,
        uint256 indexed offerId,
        address agent,
        uint96 pricePerMFuel,
        uint96 fee,
        uint32 seq,
        bytes32 explanationHash
    );
    /// @notice A request ended without an agreement and its escrow went back.
    event RequestClosed(uint256 indexed requestId, Status status, uint256 refund);
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
    /// @notice The consumer disputed the report and posted `bond`.
    event DisputeOpened(uint256 indexed agreementId, address indexed consumer, uint256 bond, uint40 verdictDeadline);
    /// @notice A verifier's re-execution; `agrees` says whether it matched the report.
    event VerdictSubmitted(
        uint256 indexed agreementId, address indexed verifier, uint64 fuelUsed, bytes32 outputHash, bool agrees
    );
    /// @notice A dispute ended. `upheld`: the report stands; `quorum`: verifiers decided it (else it timed out).
    event DisputeResolved(
        uint256 indexed agreementId,
        bool upheld,
        bool quorum,
        uint256 slashed,
        uint256 providerPayment,
        uint256 consumerRefund,
        uint256 verifierRewardEach
    );

    /// @notice Request or agreement `id` is in `actual`, not a state this call accepts.
    error InvalidStatus(uint256 id, Status actual);
    /// @notice The request's parameters are unusable; `reason` names the field.
    error InvalidRequest(string reason);
    /// @notice Only the consumer of `id` may do this.
    error NotConsumer(uint256 id, address caller);
    /// @notice `agent` may not bid for `provider`.
    error UnauthorisedAgent(address provider, address agent);
    /// @notice The bid's offer does not satisfy the request; `reason` names the requirement.
    error OfferMismatch(uint256 offerId, string reason);
    /// @notice The bid's price or fee is above the request's maximum or below the offer's floor.
    error BidOutOfRange(uint256 price, uint256 fee);
    /// @notice A provider's new bid must be strictly cheaper than its live one.
    error BidNotLower(uint256 previousTotal, uint256 total);
    /// @notice The bid window of `id` closed at `bidWindowEnd`.
    error BidWindowClosed(uint256 id, uint40 bidWindowEnd);
    /// @notice The bid window of `id` is open until `bidWindowEnd`.
    error BidWindowOpen(uint256 id, uint40 bidWindowEnd);
    /// @notice `provider` has no live bid on `id`.
    error NoSuchBid(uint256 id, address provider);
    /// @notice A request has no room for more bids.
    error TooManyBids(uint256 id);
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
    /// @notice `verifier` may not judge `id` (not a verifier, a party, or already voted).
    error NotEligibleVerifier(uint256 id, address verifier);
    /// @notice The verdict was for metering version `got`, the report used `expected`.
    error MeteringVersionMismatch(uint16 expected, uint16 got);
    /// @notice The verdict window of `id` ends at `verdictDeadline`: the call came on the wrong side of it.
    error VerdictWindow(uint256 id, uint40 verdictDeadline);

    constructor(Config memory c) EIP712("Troupe Market", "1") {
        if (c.verifierQuorum == 0 || c.verifierPanel < c.verifierQuorum) revert InvalidRequest("verifierQuorum");
        token = c.token;
        registry = c.registry;
        offers = c.offers;
        disputeWindow = c.disputeWindow;
        verdictWindow = c.verdictWindow;
        penaltyBps = c.penaltyBps;
        disputeBond = c.disputeBond;
        verifierQuorum = c.verifierQuorum;
        verifierPanel = c.verifierPanel;
    }

    /// @notice The stored state of request (or agreement) `id`.
    function request(uint256 id) external view returns (Request memory) {
        return _requests[id];
    }

    /// @notice The live bid of `provider` on request `id` (zero if none).
    function bidOf(uint256 id, address provider) external view returns (Bid memory) {
        return _bids[id][provider];
    }

    /// @notice The report of agreement `id` while it waits out its dispute window.
    function reportOf(uint256 id) external view returns (StoredReport memory) {
        return _reports[id];
    }

    /// @notice The verifiers who so far upheld and rejected the report of agreement `id`.
    function disputeOf(uint256 id) external view returns (Dispute memory) {
        return _disputes[id];
    }

    /// @notice The EIP-712 domain separator reports, acceptances and verdicts are signed under.
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @dev What a consumer escrows: the most the request can cost.
    function _escrowOf(Request storage r) internal view returns (uint256) {
        return (uint256(r.maxFuel) * r.maxPricePerMFuel) / FUEL_UNIT + r.maxFee;
    }

    /// @dev The most an agreement can pay the provider under its winning bid.
    function _valueOf(Request storage r, Bid storage b) internal view returns (uint256) {
        return (uint256(r.maxFuel) * b.pricePerMFuel) / FUEL_UNIT + b.fee;
    }

    function _penaltyOf(Request storage r, Bid storage b) internal view returns (uint256) {
        return (_valueOf(r, b) * penaltyBps) / BPS;
    }

    /// @dev The provider's pay for `fuelUsed`, capped at the agreement's fuel cap.
    function _paymentOf(Request storage r, Bid storage b, uint64 fuelUsed) internal view returns (uint256) {
        uint256 fuel = fuelUsed < r.maxFuel ? fuelUsed : r.maxFuel;
        return (fuel * b.pricePerMFuel) / FUEL_UNIT + b.fee;
    }

    function _requireStatus(uint256 id, Request storage r, Status expected) internal view {
        if (r.status != expected) revert InvalidStatus(id, r.status);
    }

    function _pay(address to, uint256 amount) internal {
        if (amount != 0) token.safeTransfer(to, amount);
    }
}
