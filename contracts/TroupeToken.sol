// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title TroupeToken
/// @notice The payment and staking token of a local Troupe market. The market itself accepts any
/// ERC-20 at deployment; this one exists so a laptop can run the whole market with nothing else.
/// @dev ERC-2612 permit lets a consumer approve and escrow in a single transaction.
contract TroupeToken is ERC20, ERC20Permit, Ownable {
    /// @param initialHolder receives `initialSupply` and may mint more (the local faucet)
    /// @param initialSupply tokens minted at deployment, in the smallest unit
    constructor(address initialHolder, uint256 initialSupply)
        ERC20("Troupe", "TRP")
        ERC20Permit("Troupe")
        Ownable(initialHolder)
    {
        _mint(initialHolder, initialSupply);
    }

    /// @notice Mints `amount` new tokens to `to`. Only the owner (the local market's faucet) may mint.
    /// @param to the receiver
    /// @param amount the amount, in the smallest unit
    function mint(address to, uint256 amount) external onlyOwner {
        _mint(to, amount);
    }
}
