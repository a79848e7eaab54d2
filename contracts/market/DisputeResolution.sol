// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IProviderRegistry} from "../interfaces/IProviderRegistry.sol";
import {IDisputedMarket} from "../interfaces/IVerifierCourt.sol";
import {ClaimKeys} from "../court/ClaimKeys.sol";
import {AgreementSettlement} from "./AgreementSettlement.sol";
import {Status, Ruling, Request, Bid, StoredReport} from "./MarketTypes.sol";

/// @title DisputeResolution
/// @notice A consumer who doubts a report disputes it inside the dispute window and posts
/// `disputeBond` with the verifier court (`VerifierCourt`), which draws a staked panel, collects
/// commit–reveal verdicts, hears appeals and hands down a final ruling. The market carries it out:
/// - Upheld: the report stands and is paid as written (a won dispute on the provider's record).
/// - ContentWithheld: the verifiers could not fetch the consumer's content, so the report cannot
///   be checked through the consumer's own fault: it is paid as written.
/// - Overturned: the verifiers agreed on another result. The consumer gets its whole escrow and
///   the penalty from the provider's stake; the provider also pays the court `disputeBond` as its
///   verification fee (shared like a forfeited bond). A false "content unavailable" report costs
///   the fee but no penalty: a consumer can serve its content to verifiers yet not to the host,
///   and must not profit from that.
/// - Void: no majority in the last round. Nothing was proven either way, so no report is paid
///   that no verifier confirmed and no provider is penalised for what no verifier refuted: the
///   escrow returns to the consumer and neither record moves.
abstract contract DisputeResolution is AgreementSettlement, IDisputedMarket {
    /// @notice The consumer disputes the report of agreement `id`; the market moves `disputeBond`
    /// from the consumer to the verifier court (approve the market first).
    /// @param id the agreement
    function openDispute(uint256 id) external nonReentrant {
        Request storage r = _requests[id];
        _requireStatus(id, r, Status.Reported);
        if (msg.sender != r.consumer) revert NotConsumer(id, msg.sender);
        StoredReport storage rep = _reports[id];
        uint256 windowEnd = uint256(rep.reportedAt) + disputeWindow;
        if (block.timestamp > windowEnd) revert DisputeWindow(id, windowEnd);
        r.status = Status.Disputed;
        address provider = r.winner;
        _pullExactlyTo(token, msg.sender, address(court), disputeBond);
        bytes32 reportKey = rep.unavailable ? ClaimKeys.unavailable() : ClaimKeys.keyOf(rep.fuelUsed, rep.outputHash);
        court.openCase(id, msg.sender, provider, registry.hostKeyOf(provider), reportKey, rep.unavailable, disputeBond);
        emit DisputeOpened(id, msg.sender, disputeBond);
    }

    /// @inheritdoc IDisputedMarket
    function executeRuling(uint256 id, Ruling ruling) external onlyCourt nonReentrant returns (uint256 toCourt) {
        Request storage r = _requests[id];
        _requireStatus(id, r, Status.Disputed);
        StoredReport storage rep = _reports[id];
        if (ruling == Ruling.Upheld || ruling == Ruling.ContentWithheld) {
            IProviderRegistry.Outcome outcome =
                rep.unavailable ? IProviderRegistry.Outcome.Neutral : IProviderRegistry.Outcome.DisputeWon;
            (uint256 payment, uint256 refund) = _payOut(id, r, rep.fuelUsed, rep.unavailable, outcome);
            emit DisputeResolved(id, ruling, payment, refund, 0, 0);
            return 0;
        }
        address provider = r.winner;
        Bid storage b = _bids[id][provider];
        uint256 value = _valueOf(r, b);
        uint256 escrow = _escrowOf(r);
        uint256 penalty;
        if (ruling == Ruling.Overturned) {
            r.status = Status.Overturned;
            registry.closeAgreement(provider, IProviderRegistry.Outcome.DisputeLost, _reserveOf(value), value);
            if (!rep.unavailable) penalty = registry.slash(provider, _penaltyOf(value), r.consumer);
            toCourt = registry.slash(provider, disputeBond, address(court));
        } else {
            r.status = Status.Annulled;
            registry.closeAgreement(provider, IProviderRegistry.Outcome.Neutral, _reserveOf(value), 0);
        }
        _pay(r.consumer, escrow);
        emit DisputeResolved(id, ruling, 0, escrow + penalty, penalty, penalty + toCourt);
    }
}
