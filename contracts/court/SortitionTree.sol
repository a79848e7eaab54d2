// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @title SortitionTree
/// @notice Weighted random selection in O(log n): a Fenwick (binary indexed) tree of weights over
/// 1-based positions that only ever grows. Drawing `r` uniformly from [0, total) picks position
/// `i` with probability weight(i) / total, so splitting a weight across many positions changes
/// nobody's odds.
library SortitionTree {
    struct Tree {
        uint256 size;
        uint256 total;
        mapping(uint256 position => uint256) nodes; // node i sums the weights of (i - lowbit(i), i]
    }

    /// @notice `r` is not below the tree's total weight.
    error DrawOutOfRange(uint256 r, uint256 total);

    /// @dev Appends a position with `weight`; returns it.
    function append(Tree storage t, uint256 weight) internal returns (uint256 position) {
        position = ++t.size;
        uint256 sum = weight;
        uint256 low = position & (~position + 1);
        // The new node covers the `low` positions ending at it: itself plus the nodes that tile the rest.
        for (uint256 step = 1; step < low; step <<= 1) {
            sum += t.nodes[position - step];
        }
        t.nodes[position] = sum;
        t.total += weight;
    }

    /// @dev Adds `amount` to the weight at `position`.
    function increase(Tree storage t, uint256 position, uint256 amount) internal {
        uint256 size = t.size;
        for (uint256 i = position; i <= size; i += i & (~i + 1)) {
            t.nodes[i] += amount;
        }
        t.total += amount;
    }

    /// @dev Subtracts `amount` from the weight at `position` (it must hold at least that much).
    function decrease(Tree storage t, uint256 position, uint256 amount) internal {
        uint256 size = t.size;
        for (uint256 i = position; i <= size; i += i & (~i + 1)) {
            t.nodes[i] -= amount;
        }
        t.total -= amount;
    }

    /// @dev The position whose weight range holds `r`: the first `i` with prefixSum(i) > r.
    function draw(Tree storage t, uint256 r) internal view returns (uint256) {
        if (r >= t.total) revert DrawOutOfRange(r, t.total);
        uint256 size = t.size;
        uint256 position;
        for (uint256 step = 1 << Math.log2(size); step != 0; step >>= 1) {
            uint256 next = position + step;
            if (next <= size) {
                uint256 node = t.nodes[next];
                if (node <= r) {
                    position = next;
                    r -= node;
                }
            }
        }
        return position + 1;
    }
}
