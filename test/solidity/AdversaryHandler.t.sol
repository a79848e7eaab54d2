// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {MarketHandler} from "./MarketInvariants.t.sol";

/// @notice The invariant handler's dispute path, walked once on purpose: the fuzzer's random walks
/// must be able to reach a judged dispute, and this proves the path itself does not revert.
contract AdversaryHandlerTest {
    function test_anInflatedReportIsDisputedAndJudged() public {
        MarketHandler h = new MarketHandler();
        h.post(1, 1e9, 1e12, 1e15, 5000, 0);
        h.bid(0, 1, 1e9, 0);
        h.close(0, false);
        h.report(0, 1, false);
        h.dispute(0, false, false);
        require(h.disputesJudged() == 1, "the dispute was judged");
        require(bytes(h.honestLoss()).length == 0, "no honest party lost");
    }
}
