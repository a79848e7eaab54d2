// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IOfferBook} from "./interfaces/IOfferBook.sol";
import {ProviderRegistry} from "./ProviderRegistry.sol";

/// @title OfferBook
/// @notice Providers publish what they sell here: capacity, the lowest price per million fuel and
/// fixed fee their agents may bid, the metering version their host runs, latency class and expiry. Only a registered, bonded provider
/// may publish or update; a provider may withdraw its offers at any time.
contract OfferBook is IOfferBook {
    /// @notice The registry that says who is a bonded provider.
    ProviderRegistry public immutable registry;
    /// @notice The number of offers ever published; ids run from 1.
    uint256 public offerCount;

    mapping(uint256 offerId => Offer) private _offers;

    /// @notice An offer was published.
    event OfferPublished(
        uint256 indexed offerId,
        address indexed provider,
        uint96 pricePerMFuel,
        uint96 fee,
        uint64 maxFuel,
        uint16 memoryMiB,
        uint16 meteringVersion,
        uint16 concurrentJobs,
        uint8 latencyClass,
        uint40 expiresAt
    );
    /// @notice An offer's terms changed.
    event OfferUpdated(
        uint256 indexed offerId,
        address indexed provider,
        uint96 pricePerMFuel,
        uint96 fee,
        uint64 maxFuel,
        uint16 memoryMiB,
        uint16 meteringVersion,
        uint16 concurrentJobs,
        uint8 latencyClass,
        uint40 expiresAt
    );
    /// @notice An offer was withdrawn.
    event OfferWithdrawn(uint256 indexed offerId, address indexed provider);

    /// @notice `provider` is not registered with at least the minimum stake.
    error NotBonded(address provider);
    /// @notice The caller does not own offer `offerId` (or it does not exist).
    error NotOfferOwner(uint256 offerId, address caller);
    /// @notice The offer's terms are unusable; `reason` names the field.
    error InvalidOffer(string reason);

    /// @param registry_ the provider registry
    constructor(ProviderRegistry registry_) {
        registry = registry_;
    }

    /// @notice Publishes a new offer for the caller, who must be a bonded provider.
    /// @param terms the offer; `provider` is ignored and set to the caller
    /// @return offerId the new offer's id
    function publish(Offer calldata terms) external returns (uint256 offerId) {
        if (!registry.isBonded(msg.sender)) revert NotBonded(msg.sender);
        _check(terms);
        offerId = ++offerCount;
        Offer memory o = terms;
        o.provider = msg.sender;
        _offers[offerId] = o;
        emit OfferPublished(
            offerId, msg.sender, o.pricePerMFuel,
            o.fee,
            o.maxFuel,
            o.memoryMiB,
            o.meteringVersion,
            o.concurrentJobs,
            o.latencyClass,
            o.expiresAt
        );
    }

    /// @notice Replaces the terms of one of the caller's offers.
    /// @param offerId the offer to update
    /// @param terms the new terms; `provider` is ignored
    function update(uint256 offerId, Offer calldata terms) external {
        _onlyOwner(offerId);
        if (!registry.isBonded(msg.sender)) revert NotBonded(msg.sender);
        _check(terms);
        Offer memory o = terms;
        o.provider = msg.sender;
        _offers[offerId] = o;
        emit OfferUpdated(
            offerId, msg.sender, o.pricePerMFuel,
            o.fee,
            o.maxFuel,
            o.memoryMiB,
            o.meteringVersion,
            o.concurrentJobs,
            o.latencyClass,
            o.expiresAt
        );
    }

    /// @notice Withdraws one of the caller's offers; no new bid may use it.
    /// @param offerId the offer to withdraw
    function withdraw(uint256 offerId) external {
        _onlyOwner(offerId);
        _offers[offerId].expiresAt = 0;
        emit OfferWithdrawn(offerId, msg.sender);
    }

    /// @inheritdoc IOfferBook
    function offer(uint256 offerId) external view returns (Offer memory) {
        return _offers[offerId];
    }

    /// @notice Whether offer `offerId` exists, is not withdrawn and has not expired.
    function isLive(uint256 offerId) external view returns (bool) {
        return _offers[offerId].expiresAt > block.timestamp;
    }

    function _onlyOwner(uint256 offerId) private view {
        if (_offers[offerId].provider != msg.sender) revert NotOfferOwner(offerId, msg.sender);
    }

    function _check(Offer calldata terms) private view {
        if (terms.maxFuel == 0) revert InvalidOffer("maxFuel");
        if (terms.memoryMiB == 0) revert InvalidOffer("memoryMiB");
        if (terms.concurrentJobs == 0) revert InvalidOffer("concurrentJobs");
        if (terms.expiresAt <= block.timestamp) revert InvalidOffer("expiresAt");
    }
}
