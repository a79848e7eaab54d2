// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {IProviderRegistry} from "../interfaces/IProviderRegistry.sol";
import {MarketBase} from "./MarketBase.sol";
import {Status, Request, Bid, UsageReport, StoredReport} from "./MarketTypes.sol";

/// @title AgreementSettlement
/// @notice The SLA after the award: the provider's host key reports usage as EIP-712 typed data,
/// under the metering version the request fixed; with the consumer's co-signature (an EOA's, or
/// an ERC-1271 wallet's) the agreement settles at once, otherwise anyone settles it after the
/// dispute window. No report by the deadline is a breach: anyone may trigger it, and the consumer
/// gets its whole escrow back plus the penalty from the provider's stake.
///
/// Payment = min(fuelUsed, maxFuel) * pricePerMFuel / 1e6 + fee, to the provider; the rest of the
/// escrow, to the consumer. A report that the consumer's content could not be fetched (outcome
/// 6) pays the fee alone: serving the content is the consumer's duty, and its failure costs the
/// consumer, not the provider. Both sides of every payout come out of the same escrow, so
/// rounding can neither create nor destroy tokens.
abstract contract AgreementSettlement is MarketBase {
    /// @notice The EIP-712 type of a usage report, signed by the provider's host key.
    bytes32 public constant USAGE_REPORT_TYPEHASH = keccak256(
        "UsageReport(uint256 agreementId,uint64 fuelUsed,uint32 peakMemoryPages,uint32 wallMs,uint8 outcome,uint32 exitCode,bytes32 outputHash,uint16 meteringVersion,uint64 nonce)"
    );
    /// @notice The EIP-712 type of a consumer's acceptance of a report (`reportHash` is the report's struct hash).
    bytes32 public constant USAGE_ACCEPTANCE_TYPEHASH =
        keccak256("UsageAcceptance(uint256 agreementId,bytes32 reportHash)");

    /// @notice Records the host-signed usage report of an awarded agreement and opens its dispute window.
    /// @param report the usage report
    /// @param hostSignature the report's EIP-712 signature by the provider's host key
    function submitReport(UsageReport calldata report, bytes calldata hostSignature) external {
        uint256 id = report.agreementId;
        Request storage r = _requests[id];
        _acceptReport(r, report, hostSignature);
        r.status = Status.Reported;
        _reports[id] = StoredReport(
            report.fuelUsed, uint40(block.timestamp), report.outcome == OUTCOME_UNAVAILABLE, report.outputHash
        );
    }

    /// @notice Records a report the consumer has co-signed and settles the agreement at once.
    /// @param report the usage report
    /// @param hostSignature the report's EIP-712 signature by the provider's host key
    /// @param consumerSignature the consumer's EIP-712 `UsageAcceptance` of the report (ECDSA or ERC-1271)
    function reportAndSettle(UsageReport calldata report, bytes calldata hostSignature, bytes calldata consumerSignature)
        external
        nonReentrant
    {
        uint256 id = report.agreementId;
        Request storage r = _requests[id];
        bytes32 reportHash = _acceptReport(r, report, hostSignature);
        bytes32 digest = _hashTypedDataV4(keccak256(abi.encode(USAGE_ACCEPTANCE_TYPEHASH, id, reportHash)));
        if (!SignatureChecker.isValidSignatureNowCalldata(r.consumer, digest, consumerSignature)) {
            revert WrongSigner(r.consumer, address(0));
        }
        _settle(id, r, report.fuelUsed, report.outcome == OUTCOME_UNAVAILABLE, true);
    }

    /// @notice The consumer accepts the reported usage of agreement `id`, settling it at once.
    /// @param id the agreement
    function acceptReport(uint256 id) external nonReentrant {
        Request storage r = _requests[id];
        _requireStatus(id, r, Status.Reported);
        if (msg.sender != r.consumer) revert NotConsumer(id, msg.sender);
        StoredReport storage rep = _reports[id];
        _settle(id, r, rep.fuelUsed, rep.unavailable, true);
    }

    /// @notice Settles agreement `id` by its report once the dispute window has passed. Anyone may call.
    /// @param id the agreement
    function settle(uint256 id) external nonReentrant {
        Request storage r = _requests[id];
        _requireStatus(id, r, Status.Reported);
        StoredReport storage rep = _reports[id];
        uint256 windowEnd = uint256(rep.reportedAt) + disputeWindow;
        if (block.timestamp <= windowEnd) revert DisputeWindow(id, windowEnd);
        _settle(id, r, rep.fuelUsed, rep.unavailable, false);
    }

    /// @notice Declares agreement `id` breached when no report came by its deadline. Anyone may
    /// call. The consumer gets the whole escrow back plus the penalty from the provider's stake.
    /// @param id the agreement
    function claimBreach(uint256 id) external nonReentrant {
        Request storage r = _requests[id];
        _requireStatus(id, r, Status.Awarded);
        if (block.timestamp <= r.deadline) revert DeadlineNotPassed(id, r.deadline);
        r.status = Status.Breached;
        address provider = r.winner;
        uint256 value = _valueOf(r, _bids[id][provider]);
        registry.closeAgreement(provider, IProviderRegistry.Outcome.Breached, _reserveOf(value), value);
        uint256 penalty = registry.slash(provider, _penaltyOf(value), r.consumer);
        uint256 refund = _escrowOf(r);
        _pay(r.consumer, refund);
        emit AgreementBreached(id, refund, penalty);
    }

    /// @notice The EIP-712 struct hash of `report`; the consumer's acceptance signs it.
    function hashReport(UsageReport calldata report) public pure returns (bytes32) {
        return keccak256(abi.encode(USAGE_REPORT_TYPEHASH, report));
    }

    /// @dev Checks that `report` may be recorded now, verifies the host's signature, emits it.
    function _acceptReport(Request storage r, UsageReport calldata report, bytes calldata hostSignature)
        private
        returns (bytes32 reportHash)
    {
        uint256 id = report.agreementId;
        _requireStatus(id, r, Status.Awarded);
        if (block.timestamp > r.deadline) revert DeadlinePassed(id, r.deadline);
        if (report.meteringVersion != r.meteringVersion) {
            revert MeteringVersionMismatch(r.meteringVersion, report.meteringVersion);
        }
        if (report.outcome > OUTCOME_UNAVAILABLE) revert InvalidReport("outcome");
        if (report.outcome == OUTCOME_UNAVAILABLE && report.fuelUsed != 0) revert InvalidReport("fuelUsed");
        address provider = r.winner;
        reportHash = hashReport(report);
        _requireSigner(_hashTypedDataV4(reportHash), hostSignature, registry.hostKeyOf(provider));
        emit UsageReported(
            id,
            provider,
            report.fuelUsed,
            report.peakMemoryPages,
            report.wallMs,
            report.outcome,
            report.exitCode,
            report.outputHash,
            report.meteringVersion,
            report.nonce
        );
    }

    /// @dev Pays the provider by the report and returns the rest of the escrow to the consumer.
    function _settle(uint256 id, Request storage r, uint64 fuelUsed, bool unavailable, bool cosigned) internal {
        IProviderRegistry.Outcome outcome =
            unavailable ? IProviderRegistry.Outcome.Neutral : IProviderRegistry.Outcome.Completed;
        (uint256 payment, uint256 refund) = _payOut(id, r, fuelUsed, unavailable, outcome);
        emit AgreementSettled(id, payment, refund, cosigned);
    }

    /// @dev Marks `id` settled, records `outcome`, pays provider and consumer from the escrow.
    function _payOut(uint256 id, Request storage r, uint64 fuelUsed, bool unavailable, IProviderRegistry.Outcome outcome)
        internal
        returns (uint256 payment, uint256 refund)
    {
        r.status = Status.Settled;
        address provider = r.winner;
        Bid storage b = _bids[id][provider];
        uint256 fuel = unavailable ? 0 : (fuelUsed < r.maxFuel ? fuelUsed : r.maxFuel);
        payment = (fuel * b.pricePerMFuel) / FUEL_UNIT + b.fee;
        refund = _escrowOf(r) - payment;
        registry.closeAgreement(provider, outcome, _reserveOf(_valueOf(r, b)), payment);
        _pay(provider, payment);
        _pay(r.consumer, refund);
    }

    function _requireSigner(bytes32 digest, bytes calldata signature, address expected) internal pure {
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(digest, signature);
        if (err != ECDSA.RecoverError.NoError || recovered != expected) revert WrongSigner(expected, recovered);
    }
}
