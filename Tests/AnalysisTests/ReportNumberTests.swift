import Testing
@testable import Analysis
@testable import Reporting

/// The text report's number rule (3 significant digits, shares as percentages, units shown) and
/// the R1 TTFT model, against values worked out by hand.
@Suite struct ReportNumberTests {
    @Test func significantDigits() {
        #expect(NumberFormat.significant(0.00533254) == "0.00533")
        #expect(NumberFormat.significant(0.607658) == "0.608")
        #expect(NumberFormat.significant(1066.75) == "1070")
        #expect(NumberFormat.significant(9.996) == "10.0")      // rounds up into the next decade
        #expect(NumberFormat.significant(48384) == "48384")     // exact integers stay whole
        #expect(NumberFormat.significant(11_324_620_800) == "1.13e+10")
        #expect(NumberFormat.significant(0.000282164) == "2.82e-04")
        #expect(NumberFormat.significant(-0.5) == "-0.500")
        #expect(NumberFormat.significant(.infinity) == "∞")
    }

    @Test func unitsAndPercentages() {
        #expect(NumberFormat.percent(0.00533254) == "0.533%")
        #expect(NumberFormat.percent(0.3) == "30%")        // an exact integer stays whole
        #expect(NumberFormat.percent(0.1234) == "12.3%")
        #expect(NumberFormat.duration(0.0523) == "52.3 ms")
        #expect(NumberFormat.duration(23.8759) == "23.9 s")
        #expect(NumberFormat.duration(0.0000423) == "42.3 µs")
        #expect(NumberFormat.si(2.48874e10, "FLOP/s") == "24.9 GFLOP/s")
        #expect(NumberFormat.si(3.35e12, "B/s") == "3.35 TB/s")
        #expect(Quantity.flopPerByte.format(29.0719) == "29.1 FLOP/byte")
        #expect(Quantity.tokens.format(512) == "512 tokens")
    }

    @Test func evidencePrintsWithItsUnit() {
        #expect(TextReport.comparison(Evidence("idle share of engine time", 0.00533254, "≥", 0.3, unit: .share))
                == "idle share of engine time 0.533% < 30%")
        #expect(TextReport.comparison(Evidence("MFU vs MBU", 0.607658, "≥", 0.062671, unit: .share))
                == "MFU vs MBU 60.8% ≥ 6.27%")
        #expect(TextReport.comparison(Evidence("capacity-bound (1 = yes)", 1, "<", 1, unit: .flag))
                == "capacity-bound: yes (needs no)")
        #expect(TextReport.comparison(Evidence("static batching detected (1 = yes)", 0, "≥", 1, unit: .flag))
                == "static batching detected: no (needs yes)")
        #expect(TextReport.comparison(Evidence("static batching detected (1 = yes)", 1, "≥", 1, unit: .flag))
                == "static batching detected: yes")
    }

    /// Closed loop, N = 16 clients, K = 8 slots, R = 24 requests, mean TTFT 1.88 s, queue 1.70 s,
    /// E2E 2.686 s: S = 0.986 s; slot wait left = (16/8 − 1)·0.986·(24 − 8)/24 = 0.65733 s;
    /// gain = 1.88 / (1.88 − 1.70 + 0.65733) = 2.24522.
    @Test func r1LeavesTheSlotWaitOfAClosedLoop() {
        let g = R1ContinuousBatching.ttftGain(ttft: 1.88, queue: 1.70, e2e: 2.686, clients: 16, slots: 8, requests: 24)
        #expect(abs(g.factor - 2.24522) < 1e-4)
        // Fewer clients than slots: no slot wait, all queueing is formation delay.
        let h = R1ContinuousBatching.ttftGain(ttft: 1.88, queue: 1.70, e2e: 2.686, clients: 8, slots: 8, requests: 24)
        #expect(abs(h.factor - 1.88 / 0.18) < 1e-9)
        // Open loop (no N): the upper bound TTFT/(TTFT − queue), named as such.
        let o = R1ContinuousBatching.ttftGain(ttft: 1.88, queue: 1.70, e2e: 2.686, clients: nil, slots: 8, requests: 24)
        #expect(abs(o.factor - 1.88 / 0.18) < 1e-9)
        #expect(o.formula.contains("upper bound"))
    }
}
