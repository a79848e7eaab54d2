// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {IOfferBook} from "../interfaces/IOfferBook.sol";
import {MarketBase} from "./MarketBase.sol";
import {Status, CloseReason, RequestParams, Request, Bid} from "./MarketTypes.sol";

/// @title DeploymentAuction
/// @notice Consumers post deployment requests and escrow the most they can cost; authorised
/// agents bid for their providers' offers; the auction awards an agreement.
///
/// The award rule, published and deterministic, prices unreliability: each bid is ranked by its
/// expected cost to the consumer,
///
///     total        = maxFuel * pricePerMFuel / 1e6 + fee
///     expectedCost = total + escrow * valueAtRiskBps * failureBps / 1e8
///
/// where `escrow * valueAtRiskBps / 1e4` is what the consumer says a failed job costs it (its
/// `valueAtRisk`, stored in basis points of its escrow, rounded to the nearest) and `failureBps` is the
/// provider's smoothed, value-weighted failure rate from its on-chain record when it first bid
/// on this request (`ProviderRegistry`: a newcomer starts at the registry's prior). The lowest expected cost
/// wins; on a tie the earlier bid keeps its place. A provider has one live bid per request and may
/// replace it only with one whose total undercuts the previous by at least `minBidStepBps`, so
/// the best bid is kept as bids arrive and closing costs the same for one bid or a thousand.
///
/// The provider gets `execTime` seconds from the award to report. An award so late that this
/// would pass the request's `deadline` refunds the consumer instead; so does a winner whose free
/// stake no longer covers the agreement's penalty and verification fee.
abstract contract DeploymentAuction is MarketBase {
    /// @notice Posts a deployment request and escrows `maxFuel * maxPricePerMFuel / 1e6 + maxFee`
    /// from the caller (approve the market first).
    /// @param p the request
    /// @return id the request id, which is also the id of the agreement it may become
    function postRequest(RequestParams calldata p) external nonReentrant returns (uint256 id) {
        return _post(p);
    }

    /// @notice Like `postRequest`, with an ERC-2612 permit for the escrow in the same transaction.
    /// @dev A permit front-run by someone else still leaves the allowance in place, so its failure is ignored.
    function postRequestWithPermit(RequestParams calldata p, uint256 permitDeadline, uint8 v, bytes32 r, bytes32 s)
        external
        nonReentrant
        returns (uint256 id)
    {
        try IERC20Permit(address(token)).permit(msg.sender, address(this), type(uint256).max, permitDeadline, v, r, s) {}
            catch {}
        return _post(p);
    }

    /// @notice Bids for a provider on request `id`, from one of the provider's offers.
    /// @dev The caller must be the provider or an agent it authorised, and neither may be the
    /// request's consumer. The price and fee must be at most the request's maxima and at least the
    /// offer's floor; the offer must meet the request (live until the window closes, enough
    /// memory and fuel, an allowed tier, a latency class no slower than asked, the request's
    /// metering version); the provider's free stake must cover the agreement's reserve.
    /// @param id the request
    /// @param offerId the offer the provider would serve it from
    /// @param pricePerMFuel the price per million fuel
    /// @param fee the fixed fee
    /// @param explanationHash the hash of the agent's off-chain explanation (zero if none)
    function bid(uint256 id, uint256 offerId, uint96 pricePerMFuel, uint96 fee, bytes32 explanationHash) external {
        Request storage r = _requests[id];
        _requireStatus(id, r, Status.Open);
        if (block.timestamp >= r.bidWindowEnd) revert BidWindowClosed(id, r.bidWindowEnd);

        IOfferBook.Offer memory o = offers.offer(offerId);
        address provider = o.provider;
        if (provider == address(0) || offerId > type(uint32).max) revert OfferMismatch(offerId, "unknown");
        if (provider == r.consumer || msg.sender == r.consumer) revert SelfDealing(id, msg.sender);
        (uint8 tier, bool bonded, bool authorised, uint16 failureBps, uint256 freeStake) =
            registry.bidderProfile(provider, msg.sender);
        if (!authorised) revert UnauthorisedAgent(provider, msg.sender);
        _checkOffer(r, o, offerId, tier, bonded);
        if (pricePerMFuel > r.maxPricePerMFuel || fee > r.maxFee || pricePerMFuel < o.pricePerMFuel || fee < o.fee) {
            revert BidOutOfRange(pricePerMFuel, fee);
        }

        uint256 total = _totalOf(r, pricePerMFuel, fee);
        uint256 reserve = _reserveOf(total);
        if (freeStake < reserve) revert StakeShort(provider, freeStake, reserve);
        Bid storage previous = _bids[id][provider];
        if (previous.offerId != 0) {
            uint256 previousTotal = _totalOf(r, previous.pricePerMFuel, previous.fee);
            uint256 maxTotal = (previousTotal * (BPS - minBidStepBps)) / BPS;
            if (total > maxTotal) revert BidNotLower(previousTotal, maxTotal, total);
            // A replacement keeps the failure rate of the provider's first bid here, so its
            // expected cost only ever falls and the best bid stays the best without a re-sort.
            failureBps = previous.failureBps;
        }
        // Casting is safe: offerId was checked to fit in 32 bits above.
        // forge-lint: disable-next-line(unsafe-typecast)
        _bids[id][provider] = Bid(pricePerMFuel, fee, uint32(offerId), failureBps);

        uint256 cost = total + _riskCostOf(r, failureBps);
        address best = r.winner;
        if (best == address(0) || (best != provider && cost < _expectedCostOf(r, _bids[id][best]))) {
            r.winner = provider;
        }
        emit BidPlaced(id, provider, offerId, msg.sender, pricePerMFuel, fee, failureBps, cost, explanationHash);
    }

    /// @notice The consumer accepts `provider`'s bid before the window closes, ending the auction.
    /// @param id the request
    /// @param provider the provider whose live bid is accepted
    function acceptBid(uint256 id, address provider) external {
        Request storage r = _requests[id];
        _requireStatus(id, r, Status.Open);
        if (msg.sender != r.consumer) revert NotConsumer(id, msg.sender);
        if (block.timestamp >= r.bidWindowEnd) revert BidWindowClosed(id, r.bidWindowEnd);
        Bid storage b = _bids[id][provider];
        if (b.offerId == 0) revert NoSuchBid(id, provider);
        uint40 agreementDeadline = uint40(block.timestamp) + r.execTime;
        if (agreementDeadline > r.deadline) revert TooLate(id, agreementDeadline, r.deadline);
        uint256 reserve = _reserveOf(_valueOf(r, b));
        if (!registry.openAgreement(provider, reserve)) {
            (,,,, uint256 freeStake) = registry.bidderProfile(provider, provider);
            revert StakeShort(provider, freeStake, reserve);
        }
        _award(id, r, provider, b, agreementDeadline, true);
    }

    /// @notice Closes the auction of request `id` once its bid window has passed. Anyone may call.
    /// @dev With no bid, an award too late for the execution time, or a winner whose free stake
    /// no longer covers the agreement's reserve, the escrow goes back to the consumer; otherwise
    /// the best bid wins.
    /// @param id the request
    function closeAuction(uint256 id) external nonReentrant {
        Request storage r = _requests[id];
        _requireStatus(id, r, Status.Open);
        if (block.timestamp < r.bidWindowEnd) revert BidWindowOpen(id, r.bidWindowEnd);
        address provider = r.winner;
        if (provider == address(0)) return _refundUnawarded(id, r, Status.Expired, CloseReason.NoBid);
        uint40 agreementDeadline = uint40(block.timestamp) + r.execTime;
        if (agreementDeadline > r.deadline) return _refundUnawarded(id, r, Status.Expired, CloseReason.TooLate);
        Bid storage b = _bids[id][provider];
        if (!registry.openAgreement(provider, _reserveOf(_valueOf(r, b)))) {
            return _refundUnawarded(id, r, Status.Expired, CloseReason.StakeShort);
        }
        _award(id, r, provider, b, agreementDeadline, false);
    }

    /// @notice The consumer withdraws request `id` while it has no bid; the escrow goes back.
    /// @param id the request
    function cancelRequest(uint256 id) external nonReentrant {
        Request storage r = _requests[id];
        _requireStatus(id, r, Status.Open);
        if (msg.sender != r.consumer) revert NotConsumer(id, msg.sender);
        if (r.winner != address(0)) revert HasBids(id);
        _refundUnawarded(id, r, Status.Cancelled, CloseReason.Cancelled);
    }

    /// @notice What the award rule ranks `provider`'s live bid on request `id` by (zero if none).
    function expectedCostOf(uint256 id, address provider) external view returns (uint256) {
        Bid storage b = _bids[id][provider];
        return b.offerId == 0 ? 0 : _expectedCostOf(_requests[id], b);
    }

    function _post(RequestParams calldata p) private returns (uint256 id) {
        if (p.workloadHash == bytes32(0)) revert InvalidRequest("workloadHash");
        if (p.maxFuel == 0) revert InvalidRequest("maxFuel");
        if (p.allowedTiers == 0 || p.allowedTiers > 7) revert InvalidRequest("allowedTiers");
        if (p.bidWindow == 0) revert InvalidRequest("bidWindow");
        if (p.execTime == 0) revert InvalidRequest("execTime");
        uint40 bidWindowEnd = uint40(block.timestamp) + p.bidWindow;
        if (p.deadline < bidWindowEnd + p.execTime) revert InvalidRequest("deadline");

        id = ++requestCount;
        Request storage r = _requests[id];
        r.consumer = msg.sender;
        r.maxFee = p.maxFee;
        r.maxPricePerMFuel = p.maxPricePerMFuel;
        r.maxFuel = p.maxFuel;
        r.bidWindowEnd = bidWindowEnd;
        r.minMemoryMiB = p.minMemoryMiB;
        r.allowedTiers = p.allowedTiers;
        r.maxLatencyClass = p.maxLatencyClass;
        r.status = Status.Open;
        r.meteringVersion = p.meteringVersion;
        r.deadline = p.deadline;
        r.execTime = p.execTime;

        uint256 escrow = _escrowOf(r);
        if (escrow < minEscrow) revert InvalidRequest("escrow");
        uint256 riskBps = (uint256(p.valueAtRisk) * BPS + escrow / 2) / escrow;
        if (riskBps > type(uint24).max) revert InvalidRequest("valueAtRisk");
        // Casting is safe: checked against the uint24 range just above.
        // forge-lint: disable-next-line(unsafe-typecast)
        r.valueAtRiskBps = uint24(riskBps);
        _pullExactly(token, msg.sender, escrow);
        _emitPosted(id, p, bidWindowEnd, escrow);
    }

    function _emitPosted(uint256 id, RequestParams calldata p, uint40 bidWindowEnd, uint256 escrow) private {
        emit RequestPosted(
            id,
            msg.sender,
            p.workloadHash,
            p.workloadURI,
            p.inputHash,
            p.inputURI,
            p.maxFuel,
            p.maxPricePerMFuel,
            p.maxFee,
            p.minMemoryMiB,
            p.allowedTiers,
            p.region,
            p.maxLatencyClass,
            bidWindowEnd,
            p.execTime,
            p.deadline,
            p.meteringVersion,
            p.valueAtRisk,
            escrow
        );
    }

    function _checkOffer(Request storage r, IOfferBook.Offer memory o, uint256 offerId, uint8 tier, bool bonded)
        private
        view
    {
        if (!bonded) revert OfferMismatch(offerId, "bonded");
        if (o.expiresAt < r.bidWindowEnd) revert OfferMismatch(offerId, "expired");
        if ((r.allowedTiers >> tier) & 1 == 0) revert OfferMismatch(offerId, "tier");
        if (o.memoryMiB < r.minMemoryMiB) revert OfferMismatch(offerId, "memory");
        if (o.maxFuel < r.maxFuel) revert OfferMismatch(offerId, "maxFuel");
        if (o.latencyClass > r.maxLatencyClass) revert OfferMismatch(offerId, "latency");
        if (o.meteringVersion != r.meteringVersion) revert OfferMismatch(offerId, "meteringVersion");
    }

    /// @notice The value at risk the award rule uses for request `id`: its escrow times `valueAtRiskBps`.
    function valueAtRiskOf(uint256 id) external view returns (uint256) {
        Request storage r = _requests[id];
        return (_escrowOf(r) * r.valueAtRiskBps) / BPS;
    }

    function _expectedCostOf(Request storage r, Bid storage b) private view returns (uint256) {
        return _valueOf(r, b) + _riskCostOf(r, b.failureBps);
    }

    /// @dev The value at risk weighted by a failure rate: escrow * valueAtRiskBps * failureBps / 1e8.
    function _riskCostOf(Request storage r, uint16 failureBps) private view returns (uint256) {
        return (_escrowOf(r) * r.valueAtRiskBps * failureBps) / (BPS * BPS);
    }

    function _award(uint256 id, Request storage r, address provider, Bid storage b, uint40 deadline, bool early)
        private
    {
        r.status = Status.Awarded;
        r.winner = provider;
        r.deadline = deadline;
        uint256 value = _valueOf(r, b);
        emit AgreementCreated(
            id, provider, r.consumer, b.offerId, b.pricePerMFuel, b.fee, r.maxFuel, deadline, _penaltyOf(value), disputeWindow, early
        );
    }

    function _refundUnawarded(uint256 id, Request storage r, Status status, CloseReason reason) private {
        r.status = status;
        uint256 refund = _escrowOf(r);
        _pay(r.consumer, refund);
        emit RequestClosed(id, status, reason, refund);
    }
}
