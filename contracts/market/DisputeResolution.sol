// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IProviderRegistry} from "../interfaces/IProviderRegistry.sol";
import {AgreementSettlement} from "./AgreementSettlement.sol";
import {Status, Request, StoredReport, Dispute} from "./MarketTypes.sol";

/// @title DisputeResolution
/// @notice A consumer who doubts a report disputes it inside the dispute window and posts a bond.
/// Registered verifiers (providers flagged as verifiers, never a party to the agreement) re-run
/// the module on the same input; fuel is deterministic, so their fuel and output hash must match
/// the report exactly. Each signs its result (EIP-712 `Verdict`) with its host key.
///
/// The first `verifierQuorum` (M) matching verdicts among at most `verifierPanel` (N) decide:
/// - the report stands: the provider is paid by it and receives half the bond, the verifiers who
///   upheld it share the other half;
/// - the report falls: the provider is slashed the penalty plus half a bond, the consumer gets its
///   whole escrow, its bond and the penalty, the verifiers who rejected the report share the rest.
/// With no quorum by the verdict deadline anyone may close the dispute: nothing was proven, so the
/// report is paid as written, the bond goes back and nobody's reputation moves.
abstract contract DisputeResolution is AgreementSettlement {
    using SafeERC20 for IERC20;

    /// @notice The EIP-712 type of a verifier's re-execution result.
    bytes32 public constant VERDICT_TYPEHASH =
        keccak256("Verdict(uint256 agreementId,uint64 fuelUsed,bytes32 outputHash,uint16 meteringVersion)");

    /// @notice The consumer disputes the report of agreement `id` and posts `disputeBond` (approve it first).
    /// @param id the agreement
    function openDispute(uint256 id) external nonReentrant {
        Request storage r = _requests[id];
        _requireStatus(id, r, Status.Reported);
        if (msg.sender != r.consumer) revert NotConsumer(id, msg.sender);
        uint256 windowEnd = uint256(_reports[id].reportedAt) + disputeWindow;
        if (block.timestamp > windowEnd) revert DisputeWindow(id, windowEnd);
        r.status = Status.Disputed;
        Dispute storage d = _disputes[id];
        uint40 verdictDeadline = uint40(block.timestamp) + verdictWindow;
        d.bond = disputeBond;
        d.verdictDeadline = verdictDeadline;
        token.safeTransferFrom(msg.sender, address(this), disputeBond);
        emit DisputeOpened(id, msg.sender, disputeBond, verdictDeadline);
    }

    /// @notice Records a verifier's signed re-execution of disputed agreement `id`; anyone may
    /// relay it. The quorum's verdict resolves the dispute in the same call.
    /// @param id the agreement
    /// @param verifier the verifying provider (its host key must have signed)
    /// @param fuelUsed the fuel the verifier measured
    /// @param outputHash the output hash the verifier got
    /// @param meteringVersion the metering version the verifier used (must be the report's)
    /// @param signature the verifier host key's EIP-712 `Verdict` signature
    function submitVerdict(
        uint256 id,
        address verifier,
        uint64 fuelUsed,
        bytes32 outputHash,
        uint16 meteringVersion,
        bytes calldata signature
    ) external nonReentrant {
        Request storage r = _requests[id];
        _requireStatus(id, r, Status.Disputed);
        Dispute storage d = _disputes[id];
        if (block.timestamp > d.verdictDeadline) revert VerdictWindow(id, d.verdictDeadline);
        StoredReport storage rep = _reports[id];
        if (meteringVersion != rep.meteringVersion) revert MeteringVersionMismatch(rep.meteringVersion, meteringVersion);
        if (!_eligible(d, r, verifier)) revert NotEligibleVerifier(id, verifier);
        bytes32 digest =
            _hashTypedDataV4(keccak256(abi.encode(VERDICT_TYPEHASH, id, fuelUsed, outputHash, meteringVersion)));
        _requireSigner(digest, signature, registry.hostKeyOf(verifier));

        bool agrees = fuelUsed == rep.fuelUsed && outputHash == rep.outputHash;
        (agrees ? d.upholders : d.rejecters).push(verifier);
        emit VerdictSubmitted(id, verifier, fuelUsed, outputHash, agrees);
        if (d.upholders.length == verifierQuorum) _uphold(id, r, d);
        else if (d.rejecters.length == verifierQuorum) _overturn(id, r, d);
    }

    /// @notice Closes disputed agreement `id` after its verdict deadline with no quorum: the report
    /// is paid as written and the bond returns to the consumer. Anyone may call.
    /// @param id the agreement
    function resolveDispute(uint256 id) external nonReentrant {
        Request storage r = _requests[id];
        _requireStatus(id, r, Status.Disputed);
        Dispute storage d = _disputes[id];
        if (block.timestamp <= d.verdictDeadline) revert VerdictWindow(id, d.verdictDeadline);
        (uint256 payment, uint256 refund) = _payOut(id, r, _reports[id].fuelUsed, IProviderRegistry.Outcome.Completed);
        _pay(r.consumer, d.bond);
        emit DisputeResolved(id, true, false, 0, payment, refund + d.bond, 0);
    }

    function _uphold(uint256 id, Request storage r, Dispute storage d) private {
        (uint256 payment, uint256 refund) = _payOut(id, r, _reports[id].fuelUsed, IProviderRegistry.Outcome.DisputeWon);
        uint256 each = _rewardVerifiers(d.upholders, d.bond / 2);
        uint256 providerShare = d.bond - each * d.upholders.length;
        _pay(r.winner, providerShare);
        emit DisputeResolved(id, true, true, 0, payment + providerShare, refund, each);
    }

    function _overturn(uint256 id, Request storage r, Dispute storage d) private {
        r.status = Status.Overturned;
        address provider = r.winner;
        registry.closeAgreement(provider, IProviderRegistry.Outcome.DisputeLost);
        uint256 pool = d.bond / 2;
        uint256 slashed = registry.slash(provider, _penaltyOf(r, _bids[id][provider]) + pool);
        uint256 each = _rewardVerifiers(d.rejecters, slashed < pool ? slashed : pool);
        uint256 refund = _escrowOf(r) + d.bond + slashed - each * d.rejecters.length;
        _pay(r.consumer, refund);
        emit DisputeResolved(id, false, true, slashed, 0, refund, each);
    }

    /// @dev Splits `pool` evenly among `verifiers`; returns each one's share (the dust stays with the caller's payee).
    function _rewardVerifiers(address[] storage verifiers, uint256 pool) private returns (uint256 each) {
        uint256 n = verifiers.length;
        each = pool / n;
        for (uint256 i; i < n; ++i) {
            _pay(verifiers[i], each);
        }
    }

    function _eligible(Dispute storage d, Request storage r, address verifier) private view returns (bool) {
        if (verifier == r.winner || verifier == r.consumer) return false;
        if (d.upholders.length + d.rejecters.length >= verifierPanel) return false;
        if (_contains(d.upholders, verifier) || _contains(d.rejecters, verifier)) return false;
        return registry.isVerifier(verifier);
    }

    function _contains(address[] storage list, address a) private view returns (bool) {
        for (uint256 i; i < list.length; ++i) {
            if (list[i] == a) return true;
        }
        return false;
    }
}
