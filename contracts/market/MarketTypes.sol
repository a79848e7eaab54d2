// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice The life of a deployment request; once awarded the request *is* the agreement (same id).
enum Status {
    None,
    Open, // taking bids
    Awarded, // an agreement: the provider must report by the deadline
    Reported, // usage reported, inside the dispute window
    Disputed, // the consumer disputed, the verifier court is judging
    Settled, // paid out by the report
    Breached, // no report by the deadline: refunded and penalised
    Overturned, // the court rejected the report: refunded (and penalised unless content was unavailable)
    Cancelled, // withdrawn by the consumer before any bid
    Expired, // closed with no bid, too late to run, or the winner's stake fell short: refunded
    Annulled // the court reached no majority: nothing proven, the escrow went back
}

/// @notice Why a request ended without an agreement.
enum CloseReason {
    NoBid, // the bid window closed with no bid
    Cancelled, // the consumer withdrew it
    TooLate, // the award came so late that the execution time would pass the request's deadline
    StakeShort // the winner's free stake no longer covered the agreement's penalty and dispute bond
}

/// @notice How a dispute ended (the verifier court's final ruling).
enum Ruling {
    None,
    Upheld, // the report stands
    Overturned, // the verifiers agreed on another result
    ContentWithheld, // the verifiers could not fetch the consumer's content: the consumer's fault
    Void // no majority: nothing proven either way
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
    uint16 minMemoryMiB; // memory the job needs (a wasm32 module addresses at most 4 GiB)
    uint8 allowedTiers; // bit 0 cloud, bit 1 edge, bit 2 iot
    uint16 region; // where the consumer is (matchmakers estimate latency from it)
    uint8 maxLatencyClass; // the slowest latency class accepted
    uint40 bidWindow; // seconds bids are taken for
    uint32 execTime; // seconds the provider gets to report, counted from the award
    uint40 deadline; // unix time after which the job is worth nothing to the consumer
    uint16 meteringVersion; // the metering every report and verdict must use
    uint96 valueAtRisk; // what a failed job costs the consumer; prices unreliability in the award
}

/// @notice A request's stored state: three slots. The winning bid holds the agreement's price.
struct Request {
    address consumer;
    uint96 maxFee;
    uint96 maxPricePerMFuel;
    uint64 maxFuel;
    uint40 bidWindowEnd;
    uint16 minMemoryMiB;
    uint8 allowedTiers;
    uint8 maxLatencyClass;
    Status status;
    uint16 meteringVersion;
    address winner; // the best bidder while open, the provider once awarded
    uint40 deadline; // the request's latest completion while open; the agreement's report deadline once awarded
    uint32 execTime;
    uint24 valueAtRiskBps; // the consumer's value at risk, in basis points of its escrow (rounded to the nearest)
}

/// @notice One provider's live bid on one request: one slot.
struct Bid {
    uint96 pricePerMFuel;
    uint96 fee;
    uint32 offerId;
    uint16 failureBps; // the provider's failure rate when it bid, which the award rule prices
}

/// @notice What the provider's host signs (EIP-712 `UsageReport`).
struct UsageReport {
    uint256 agreementId;
    uint64 fuelUsed;
    uint32 peakMemoryPages;
    uint32 wallMs;
    uint8 outcome; // 0 exited, 1 out of fuel, 2 out of memory, 3 stack limit, 4 trap, 5 invalid module, 6 content unavailable
    uint32 exitCode;
    bytes32 outputHash; // for outcome 6: the sha-256 of the host's note of what it tried
    uint16 meteringVersion;
    uint64 nonce; // the host's outbox sequence; replay is blocked by the id, the domain and the state
}

/// @notice A report waiting out its dispute window: two slots.
struct StoredReport {
    uint64 fuelUsed;
    uint40 reportedAt;
    bool unavailable; // the host reported the consumer's content unavailable
    bytes32 outputHash;
}
