// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title ClaimKeys
/// @notice What a report or a verdict claims about a job, as one comparable key: the fuel it took
/// and the hash of its output. "The content could not be fetched" is a claim of its own.
library ClaimKeys {
    /// @notice The output hash a verdict names when the consumer's content could not be fetched.
    bytes32 internal constant UNAVAILABLE_OUTPUT = keccak256("troupe.content-unavailable");

    /// @dev The key of the claim (`fuelUsed`, `outputHash`).
    function keyOf(uint64 fuelUsed, bytes32 outputHash) internal pure returns (bytes32) {
        return keccak256(abi.encode(fuelUsed, outputHash));
    }

    /// @dev The key of "the content could not be fetched".
    function unavailable() internal pure returns (bytes32) {
        return keyOf(0, UNAVAILABLE_OUTPUT);
    }
}
