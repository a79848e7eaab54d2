// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IOfferBook} from "../interfaces/IOfferBook.sol";
import {MarketBase} from "./MarketBase.sol";
import {Status, RequestParams, Request, Bid} from "./MarketTypes.sol";

/// @title DeploymentAuction
/// @notice Consumers post deployment requests and escrow the most they can cost; authorised
/// agents bid for their providers' offers; the auction awards an agreement.
///
/// The award rule, published and deterministic: the lowest total price for the request's fuel
/// cap (`maxFuel * pricePerMFuel / 1e6 + fee`) wins; a tie goes to the higher reputation score
/// (as the registry reported it when the bid was placed), then to the earlier bid. A provider has
/// one live bid per request and may only replace it with a strictly cheaper one, so the best bid
/// is kept as bids arrive and closing the auction costs the same for one bid or a thousand.
abstract contract DeploymentAuction is MarketBase {
    using SafeERC20 for IERC20;

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
    /// @dev The caller must be the provider or an agent it authorised. The price and fee must be
    /// at most the request's maxima and at least the offer's floor, and the offer must meet the
    /// request: live until the bid window closes, enough memory and fuel, an allowed tier, a
    /// latency class no slower than asked.
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
        (uint8 tier, bool bonded, bool authorised, uint16 reputation) = registry.bidderProfile(provider, msg.sender);
        if (!authorised) revert UnauthorisedAgent(provider, msg.sender);
        _checkOffer(r, o, offerId, tier, bonded);
        if (pricePerMFuel > r.maxPricePerMFuel || fee > r.maxFee || pricePerMFuel < o.pricePerMFuel || fee < o.fee) {
            revert BidOutOfRange(pricePerMFuel, fee);
        }

        uint256 total = (uint256(r.maxFuel) * pricePerMFuel) / FUEL_UNIT + fee;
        Bid storage previous = _bids[id][provider];
        if (previous.seq != 0) {
            uint256 previousTotal = (uint256(r.maxFuel) * previous.pricePerMFuel) / FUEL_UNIT + previous.fee;
            if (total >= previousTotal) revert BidNotLower(previousTotal, total);
        }
        if (r.bidCount == type(uint16).max) revert TooManyBids(id);
        uint16 seq = r.bidCount + 1;
        r.bidCount = seq;
        // Casting is safe: offerId was checked to fit in 32 bits above.
        // forge-lint: disable-next-line(unsafe-typecast)
        _bids[id][provider] = Bid(pricePerMFuel, fee, uint32(offerId), seq);

        if (r.winner == address(0) || _beats(id, r, total, reputation)) {
            r.winner = provider;
            r.winnerReputation = reputation;
        }
        emit BidPlaced(id, provider, offerId, msg.sender, pricePerMFuel, fee, seq, explanationHash);
    }

    /// @notice The consumer accepts `provider`'s bid before the window closes, ending the auction.
    /// @param id the request
    /// @param provider the provider whose live bid is accepted
    function acceptBid(uint256 id, address provider) external {
        Request storage r = _requests[id];
        _requireStatus(id, r, Status.Open);
        if (msg.sender != r.consumer) revert NotConsumer(id, msg.sender);
        if (block.timestamp >= r.bidWindowEnd) revert BidWindowClosed(id, r.bidWindowEnd);
        if (_bids[id][provider].seq == 0) revert NoSuchBid(id, provider);
        _award(id, r, provider, true);
    }

    /// @notice Closes the auction of request `id` once its bid window has passed. Anyone may call.
    /// @dev With no bid, or when the execution deadline has already passed, the escrow goes back
    /// to the consumer; otherwise the best bid wins.
    /// @param id the request
    function closeAuction(uint256 id) external nonReentrant {
        Request storage r = _requests[id];
        _requireStatus(id, r, Status.Open);
        if (block.timestamp < r.bidWindowEnd) revert BidWindowOpen(id, r.bidWindowEnd);
        if (r.bidCount == 0 || block.timestamp >= r.deadline) {
            _refundUnawarded(id, r, Status.Expired);
        } else {
            _award(id, r, r.winner, false);
        }
    }

    /// @notice The consumer withdraws request `id` while it has no bid; the escrow goes back.
    /// @param id the request
    function cancelRequest(uint256 id) external nonReentrant {
        Request storage r = _requests[id];
        _requireStatus(id, r, Status.Open);
        if (msg.sender != r.consumer) revert NotConsumer(id, msg.sender);
        if (r.bidCount != 0) revert HasBids(id);
        _refundUnawarded(id, r, Status.Cancelled);
    }

    function _post(RequestParams calldata p) private returns (uint256 id) {
        if (p.workloadHash == bytes32(0)) revert InvalidRequest("workloadHash");
        if (p.maxFuel == 0) revert InvalidRequest("maxFuel");
        if (p.allowedTiers == 0 || p.allowedTiers > 7) revert InvalidRequest("allowedTiers");
        if (p.bidWindow == 0) revert InvalidRequest("bidWindow");
        uint40 bidWindowEnd = uint40(block.timestamp) + p.bidWindow;
        if (p.deadline <= bidWindowEnd) revert InvalidRequest("deadline");

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
        r.deadline = p.deadline;
        r.region = p.region;

        uint256 escrow = _escrowOf(r);
        token.safeTransferFrom(msg.sender, address(this), escrow);
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
            p.deadline,
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
    }

    /// @dev Whether a new bid (`total`, `reputation`) beats the current best. A new bid is always
    /// later than the best one, so on a full tie the best one keeps its place.
    function _beats(uint256 id, Request storage r, uint256 total, uint16 reputation) private view returns (bool) {
        Bid storage best = _bids[id][r.winner];
        uint256 bestTotal = (uint256(r.maxFuel) * best.pricePerMFuel) / FUEL_UNIT + best.fee;
        if (total != bestTotal) return total < bestTotal;
        return reputation > r.winnerReputation;
    }

    function _award(uint256 id, Request storage r, address provider, bool early) private {
        r.status = Status.Awarded;
        r.winner = provider;
        registry.openAgreement(provider);
        Bid storage b = _bids[id][provider];
        emit AgreementCreated(
            id,
            provider,
            r.consumer,
            b.offerId,
            b.pricePerMFuel,
            b.fee,
            r.maxFuel,
            r.deadline,
            _penaltyOf(r, b),
            disputeWindow,
            early
        );
    }

    function _refundUnawarded(uint256 id, Request storage r, Status status) private {
        r.status = status;
        uint256 refund = _escrowOf(r);
        _pay(r.consumer, refund);
        emit RequestClosed(id, status, refund);
    }
}
