// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice The life of a deployment request; once awarded the request *is* the agreement (same id).
enum Status {
    None,
    Open, // taking bids
    Awarded, // an agreement: the provider must report by the deadline
    Reported, // usage reported, inside the dispute window
    Disputed, // the consumer disputed, verifiers are re-executing
    Settled, // paid out by the report
    Breached, // no report by the deadline: refunded and penalised
    Overturned, // the verifiers rejected the report: refunded and slashed
    Cancelled, // withdrawn by the consumer before any bid
    Expired // closed with no bid, or too late to run: refunded
}

/// @notice What a consumer asks for. Hashes and URIs are emitted, never stored.
struct RequestParams {
    bytes32 workloadHash; // sha-256 of the module
    string workloadURI; // where to fetch it
    bytes32 inputHash; // sha-256 of the input bundle
    string inputURI; // where to fetch the input
    uint64 maxFuel; // the fuel cap
    uint96 maxPricePerMFuel; // the most the consumer pays per million fuel
    uint96 maxFee; // the most the consumer pays as a fixed fee
    uint32 minMemoryMiB; // memory the job needs
    uint8 allowedTiers; // bit 0 cloud, bit 1 edge, bit 2 iot
    uint16 region; // where the consumer is (matchmakers estimate latency from it)
    uint8 maxLatencyClass; // the slowest latency class accepted
    uint40 bidWindow; // seconds bids are taken for
    uint40 deadline; // unix time by which the usage report must be on chain
}

/// @notice A request's stored state: three slots. The winning bid holds the agreement's price.
struct Request {
    address consumer;
    uint96 maxFee;
    uint96 maxPricePerMFuel;
    uint64 maxFuel;
    uint40 bidWindowEnd;
    uint32 minMemoryMiB;
    uint8 allowedTiers;
    uint8 maxLatencyClass;
    Status status;
    address winner; // the best bidder while open, the provider once awarded
    uint40 deadline;
    uint16 region;
    uint16 bidCount;
    uint16 winnerReputation; // the best bidder's reputation when it bid
}

/// @notice One provider's live bid on one request: one slot.
struct Bid {
    uint96 pricePerMFuel;
    uint96 fee;
    uint32 offerId;
    uint32 seq; // the bid's place in the request's bid order, from 1
}

/// @notice What the provider's host signs (EIP-712 `UsageReport`).
struct UsageReport {
    uint256 agreementId;
    uint64 fuelUsed;
    uint32 peakMemoryPages;
    uint32 wallMs;
    uint8 outcome; // 0 exited, 1 out of fuel, 2 out of memory, 3 stack limit, 4 trap, 5 invalid module
    uint32 exitCode;
    bytes32 outputHash;
    uint16 meteringVersion;
    uint64 nonce; // the host's outbox sequence; replay is blocked by the id, the domain and the state
}

/// @notice A report waiting out its dispute window: two slots.
struct StoredReport {
    uint64 fuelUsed;
    uint40 reportedAt;
    uint16 meteringVersion;
    bytes32 outputHash;
}

/// @notice An open dispute.
struct Dispute {
    uint96 bond;
    uint40 verdictDeadline;
    address[] upholders; // verifiers whose re-execution matched the report
    address[] rejecters; // verifiers whose re-execution did not
}
