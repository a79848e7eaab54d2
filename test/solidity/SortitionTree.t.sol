// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {SortitionTree} from "../../contracts/court/SortitionTree.sol";

/// @notice The sortition tree against a plain array of weights: whatever the weights and their
/// changes, a draw of r lands on the position whose cumulative range holds r.
contract SortitionTreeTest {
    using SortitionTree for SortitionTree.Tree;

    SortitionTree.Tree internal tree;
    uint256[] internal weights;

    function testFuzz_drawLandsInThePositionsRange(uint256 seed, uint8 count, uint8 changes) public {
        uint256 n = 1 + (uint256(count) % 40);
        for (uint256 i; i < n; ++i) {
            uint256 w = uint256(keccak256(abi.encode(seed, "w", i))) % 1e21;
            weights.push(w);
            tree.append(w);
        }
        for (uint256 k; k < uint256(changes) % 20; ++k) {
            uint256 i = uint256(keccak256(abi.encode(seed, "i", k))) % n;
            uint256 delta = uint256(keccak256(abi.encode(seed, "d", k))) % 1e21;
            if (k % 2 == 0) {
                tree.increase(i + 1, delta);
                weights[i] += delta;
            } else {
                delta = delta % (weights[i] + 1);
                tree.decrease(i + 1, delta);
                weights[i] -= delta;
            }
        }
        uint256 total;
        for (uint256 i; i < n; ++i) total += weights[i];
        require(tree.total == total, "total");
        if (total == 0) return;
        for (uint256 k; k < 24; ++k) {
            uint256 r = k < 2 ? (k == 0 ? 0 : total - 1) : uint256(keccak256(abi.encode(seed, "r", k))) % total;
            uint256 position = tree.draw(r);
            uint256 below;
            for (uint256 i; i + 1 < position; ++i) below += weights[i];
            require(below <= r && r < below + weights[position - 1], "r falls in the drawn position's range");
        }
    }
}
