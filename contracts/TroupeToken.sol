// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Capped} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Capped.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";

/// @title TroupeToken
/// @notice The payment and staking token of a Troupe market. The market accepts any standard
/// ERC-20 at deployment; this one exists so a laptop can run the whole market with nothing else.
/// Its supply never exceeds `cap`. Minting after deployment is possible only when it was deployed
/// `mintable` (the local market's faucet); on a real network it is deployed with its whole supply
/// and minting disabled for good. Ownership moves in two steps, so it cannot be handed to a typo.
/// @dev ERC-2612 permit lets a consumer approve and escrow in a single transaction.
contract TroupeToken is ERC20Capped, ERC20Permit, Ownable2Step {
    /// @notice Whether the owner may mint (the local market's faucet).
    bool public immutable mintable;

    /// @notice This token was deployed with minting disabled.
    error MintingDisabled();

    /// @param initialHolder receives `initialSupply` and owns the token
    /// @param initialSupply tokens minted at deployment, in the smallest unit
    /// @param cap_ the most tokens that may ever exist
    /// @param mintable_ whether the owner may mint more, up to the cap (local markets only)
    constructor(address initialHolder, uint256 initialSupply, uint256 cap_, bool mintable_)
        ERC20("Troupe", "TRP")
        ERC20Capped(cap_)
        ERC20Permit("Troupe")
        Ownable(initialHolder)
    {
        mintable = mintable_;
        _mint(initialHolder, initialSupply);
    }

    /// @notice Mints `amount` new tokens to `to`, up to the cap. Only the owner of a mintable token may.
    /// @param to the receiver
    /// @param amount the amount, in the smallest unit
    function mint(address to, uint256 amount) external onlyOwner {
        if (!mintable) revert MintingDisabled();
        _mint(to, amount);
    }

    function _update(address from, address to, uint256 value) internal override(ERC20, ERC20Capped) {
        super._update(from, to, value);
    }
}
