// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

/// @title TokenIntake
/// @notice Pulls tokens in and checks what actually arrived. Troupe's books (escrows, bonds,
/// stakes) assume a standard ERC-20 that moves exactly the amount asked; a fee-on-transfer or
/// otherwise non-standard token is refused at the first intake instead of leaving a hole that a
/// later refund would fill from someone else's escrow.
abstract contract TokenIntake {
    using SafeERC20 for IERC20;

    /// @notice The token delivered `received` where `expected` was asked for: it is not a standard ERC-20.
    error NonStandardToken(uint256 expected, uint256 received);

    /// @dev Moves `amount` from `from` to this contract and checks that exactly `amount` arrived.
    function _pullExactly(IERC20 token, address from, uint256 amount) internal {
        _pullExactlyTo(token, from, address(this), amount);
    }

    /// @dev Moves `amount` from `from` to `to` (this contract must be allowed to spend `from`'s
    /// tokens) and checks that exactly `amount` arrived.
    function _pullExactlyTo(IERC20 token, address from, address to, uint256 amount) internal {
        uint256 before = token.balanceOf(to);
        token.safeTransferFrom(from, to, amount);
        uint256 received = token.balanceOf(to) - before;
        if (received != amount) revert NonStandardToken(amount, received);
    }
}
