// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IOfferBook
/// @notice The offers providers publish, as the market reads them when an agent bids.
interface IOfferBook {
    /// @notice A published offer. Two storage slots.
    struct Offer {
        address provider;
        uint96 pricePerMFuel; // the lowest price per million fuel the owner allows its agents to bid
        uint96 fee; // the lowest fixed fee per job the owner allows
        uint64 maxFuel; // the largest fuel cap per job
        uint16 memoryMiB; // memory available to one job (a wasm32 module addresses at most 4 GiB)
        uint16 meteringVersion; // the metering version the provider's host runs
        uint16 concurrentJobs; // jobs the offer runs at once (enforced by the provider's agent)
        uint8 latencyClass; // 0 (best) .. 255
        uint40 expiresAt; // zero once withdrawn
    }

    /// @notice The offer with id `offerId` (all zero if it never existed).
    function offer(uint256 offerId) external view returns (Offer memory);
}
