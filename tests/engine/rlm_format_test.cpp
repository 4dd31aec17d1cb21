// `format: rlm` (SPEC §1): Reprise RLM report-log records -> events. Expected timestamps were
// computed independently (Python datetime) from the dates and times in the logs.
#include <catch2/catch.hpp>

#include "tests/engine/log_format_test_util.h"

using namespace licflow;
using namespace licflow::test;
using Catch::Matchers::Contains;

TEST_CASE("rlm: std and detailed records become events with handles, counts and reasons",
          "[rlm][spec-1]") {
  const std::string log =
      "RLM Report Log Format 2, version 15.1 BL2, authenticated\n"
      "ISV: demo, RLM version 15.1 BL2\n"
      "START lic02 11/27/2026 08:00\n"
      "PRODUCT cad 1.0 10 0 0 \"\"\n"
      "OUT cad 1.0 1 jdoe ws042 \"\" 1 1 0 4a 0 1f2c \"proj x\" \"cad\" \"1.0\" 11/27 09:14:37\n"
      "OUT cad 1.0 1 asmith ws007 \"\" 2 3 0 4b 0 1f2d \"\" \"cad\" \"1.0\" 11/27 09:20:00.5000 "
      "\"x64_l1 5.4\" \"/opt/cad/bin/cad\" 0 0 10.0.0.7\n"
      "DENY cad 1.0 bob ws009 \"\" 1 -22 1 11/27 10:00\n"
      "QUE cad 1.0 carl \"\" \"\" 1 4c \"\" \"cad\" \"1.0\" 11/27 10:01:00\n"
      "DEQUE 6 cad 1.0 carl \"\" \"\" 1 4c 11/27 10:02:00\n"
      "IN 4 cad 1.0 jdoe ws042 \"\" 1 2 0 4a 11/27 10:30:00\n"
      "IN 1 cad 1.0 asmith ws007 \"\" 2 0 0 4b 11/27 11:00:00\n"
      "11/27/2026 12:00\n"
      "SHUTDOWN admin lic02 11/27 18:00:00\n";
  const std::vector<std::string> expected = {
      R"({"ts":1795766400000,"type":"server_down","server":"rlm1"})",
      R"({"ts":1795766400000,"type":"server_up","server":"rlm1"})",
      R"({"ts":1795770877000,"type":"checkout","server":"rlm1","feature":"cad","user":"jdoe","host":"ws042","count":1,"handle":"4a","project":"proj x"})",
      R"({"ts":1795771200500,"type":"checkout","server":"rlm1","feature":"cad","user":"asmith","host":"ws007","count":2,"handle":"4b"})",
      R"({"ts":1795773600000,"type":"denied","server":"rlm1","feature":"cad","user":"bob","host":"ws009","count":1})",
      R"({"ts":1795773660000,"type":"queued","server":"rlm1","feature":"cad","user":"carl","count":1,"handle":"4c"})",
      R"({"ts":1795773720000,"type":"dequeued","server":"rlm1","feature":"cad","user":"carl","handle":"4c"})",
      R"({"ts":1795775400000,"type":"checkin","server":"rlm1","feature":"cad","user":"jdoe","host":"ws042","count":1,"handle":"4a","reason":"inactive"})",
      R"({"ts":1795777200000,"type":"checkin","server":"rlm1","feature":"cad","user":"asmith","host":"ws007","count":2,"handle":"4b"})",
      R"({"ts":1795802400000,"type":"server_down","server":"rlm1"})",
  };
  for (size_t chunk_bytes : {size_t{1}, size_t{1} << 20}) {
    Translated t = translate_log(log, log_format("rlm", "rlm1"), chunk_bytes);
    CHECK(t.events == expected);
    CHECK(t.dead_letters.empty());
    CHECK(t.skipped == 4);  // header, ISV line, PRODUCT, periodic timestamp
  }
}

TEST_CASE("rlm: mm/dd dates cross New Year into the next year", "[rlm][spec-1]") {
  const std::string log =
      "START lic02 12/31/2026 23:00\n"
      "OUT cad 1.0 1 u h \"\" 1 1 0 9 0 1 \"\" \"cad\" \"1.0\" 12/31 23:59:00\n"
      "IN 2 cad 1.0 u h \"\" 1 0 0 9 01/01 00:10:00\n";
  Translated t = translate_log(log, log_format("rlm"));
  REQUIRE(t.events.size() == 4);
  CHECK(t.events[2] ==
        R"({"ts":1798761540000,"type":"checkout","server":"default","feature":"cad","user":"u","host":"h","count":1,"handle":"9"})");
  CHECK(t.events[3] ==
        R"({"ts":1798762200000,"type":"checkin","server":"default","feature":"cad","user":"u","host":"h","count":1,"handle":"9","reason":"exited"})");
}

TEST_CASE("rlm: INUSE opens a checkout held when the log starts, once", "[rlm][spec-1]") {
  const std::string log =
      "START lic01 11/27/2026 08:00\n"
      "INUSE cad 1.0 1 jdoe ws042 \"\" 2 4a 1f3 11/27 08:00:00\n"             // held before
      "INUSE sim 1.0 1 ann ws007 \"\" 1 4b 0 2e1 11/27 08:00:00\n"            // with share_handle
      "IN 1 cad 1.0 jdoe ws042 \"\" 2 0 0 4a 11/27 09:00:00\n"
      "INUSE sim 1.0 1 ann ws007 \"\" 1 4b 0 2e1 11/27 18:00:00\n"            // at the end: open
      "INUSE cad 1.0 1 jdoe ws042 \"\" 2 4a 1f3 11/27\n";                     // unreadable
  Translated t = translate_log(log, log_format("rlm"));
  const std::vector<std::string> expected = {
      R"({"ts":1795766400000,"type":"server_down","server":"default"})",
      R"({"ts":1795766400000,"type":"server_up","server":"default"})",
      R"({"ts":1795766400000,"type":"checkout","server":"default","feature":"cad","user":"jdoe","host":"ws042","count":2,"handle":"4a"})",
      R"({"ts":1795766400000,"type":"checkout","server":"default","feature":"sim","user":"ann","host":"ws007","count":1,"handle":"4b"})",
      R"({"ts":1795770000000,"type":"checkin","server":"default","feature":"cad","user":"jdoe","host":"ws042","count":2,"handle":"4a"})",
  };
  CHECK(t.events == expected);
  CHECK(t.skipped == 1);
  REQUIRE(t.dead_letters.size() == 1);
  CHECK(t.dead_letters[0].line == 6);
}

TEST_CASE("rlm: dated records follow the hour daylight saving time repeats", "[rlm][spec-1]") {
  // Europe/Berlin, 2023-10-29: at 03:00 CEST the clock goes back to 02:00 CET.
  const std::string log =
      "START lic01 10/29/2023 01:59\n"
      "OUT katana 1.0 0 asmith h \"\" 2 5 0 5c 0 138b \"\" \"katana\" \"1.0\" 10/29 02:55:45\n"
      "IN 2 katana 1.0 asmith h \"\" 2 0 0 5c 10/29 02:22:26\n"
      "OUT katana 1.0 0 asmith h \"\" 1 5 0 5d 0 138b \"\" \"katana\" \"1.0\" 10/29 03:05:00\n";
  SourceFormat format = log_format("rlm");
  format.zone = find_time_zone("Europe/Berlin");
  REQUIRE(format.zone != nullptr);
  Translated t = translate_log(log, format);
  REQUIRE(t.events.size() == 5);
  CHECK_THAT(t.events[2], Contains(R"("ts":1698540945000,"type":"checkout")"));  // 00:55:45Z
  CHECK_THAT(t.events[3], Contains(R"("ts":1698542546000,"type":"checkin")"));   // 01:22:26Z
  CHECK_THAT(t.events[4], Contains(R"("ts":1698545100000,"type":"checkout")"));  // 02:05Z
}

TEST_CASE("rlm: TIMESTAMP records move the date of small records on", "[rlm][spec-1]") {
  const std::string log =
      "START lic01 12/06/2019 10:00\n"
      "OUT f 1.0 u h \"\" 1 1 0 17:00\n"
      "12/08/2019 00:00\n"
      "TIMESTAMP 12/09/2019 00:00\n"
      "OUT f 1.0 u h \"\" 1 2 0 09:00\n";
  Translated t = translate_log(log, log_format("rlm"));
  REQUIRE(t.events.size() == 4);
  CHECK_THAT(t.events[2], Contains(R"("ts":1575651600000,"type":"checkout")"));  // 12/06 17:00Z
  CHECK_THAT(t.events[3], Contains(R"("ts":1575882000000,"type":"checkout")"));  // 12/09 09:00Z
}

TEST_CASE("rlm: small records take the date from earlier lines and the product from the handle",
          "[rlm][spec-1]") {
  const std::string log =
      "START lic02 11/27/2026 08:00\n"                      // 1
      "OUT cad 1.0 jdoe ws042 \"\" 1 4a 0 09:14\n"           // 2
      "IN 1 1 4a 10:30\n"                                    // 3
      "OUT cad 1.0 jdoe ws042 \"\" 3 4b 0 23:50\n"           // 4
      "IN 3 3 4b 00:10\n"                                    // 5: after midnight
      "IN 1 1 ff 01:00\n";                                   // 6: unknown handle
  Translated t = translate_log(log, log_format("rlm"), 1);
  const std::vector<std::string> expected = {
      R"({"ts":1795766400000,"type":"server_down","server":"default"})",
      R"({"ts":1795766400000,"type":"server_up","server":"default"})",
      R"({"ts":1795770840000,"type":"checkout","server":"default","feature":"cad","user":"jdoe","host":"ws042","count":1,"handle":"4a"})",
      R"({"ts":1795775400000,"type":"checkin","server":"default","feature":"cad","user":"jdoe","host":"ws042","count":1,"handle":"4a"})",
      R"({"ts":1795823400000,"type":"checkout","server":"default","feature":"cad","user":"jdoe","host":"ws042","count":3,"handle":"4b"})",
      R"({"ts":1795824600000,"type":"checkin","server":"default","feature":"cad","user":"jdoe","host":"ws042","count":3,"handle":"4b","reason":"removed"})",
  };
  CHECK(t.events == expected);
  REQUIRE(t.dead_letters.size() == 1);
  CHECK(t.dead_letters[0].line == 6);
  CHECK_THAT(t.dead_letters[0].error, Contains("unknown handle ff"));
}

TEST_CASE("rlm: unreadable records are dead letters with their original line numbers",
          "[rlm][spec-1][dead-letter]") {
  const std::string log =
      "OUT cad 1.0 1 u h \"\" 1 1 0 9 0 1 \"\" \"cad\" \"1.0\" 11/27 09:00:00\n"  // 1: no date
      "START lic02 11/27/2026 08:00\n"                                          // 2
      "OUT cad\n"                                                               // 3: short
      "DENY cad 1.0 u h \"\" 1 -22 1 02/30 10:00\n"                             // 4: bad date
      "OUT cad 1.0 1 u h \"\" x 1 0 9 0 1 \"\" \"cad\" \"1.0\" 11/27 09:00:00\n"  // 5: bad count
      "IN 1 cad 1.0 u h \"\" 1 0 0 9 11/27 9h\n"                                // 6: bad time
      "AUTH product 1234abcd\n"                                                 // 7: skipped
      "11/31/2026 10:00\n"                                                      // 8: bad date
      "\"\"\n";                                                                  // 9: skipped
  Translated t = translate_log(log, log_format("rlm"));
  CHECK(t.events.size() == 2);  // the START
  std::vector<uint64_t> lines;
  for (const RawDeadLetter& d : t.dead_letters) lines.push_back(d.line);
  CHECK(lines == std::vector<uint64_t>{1, 3, 4, 5, 6, 8});
  REQUIRE(t.dead_letters.size() == 6);
  CHECK_THAT(t.dead_letters[0].error, Contains("no date yet"));
  CHECK_THAT(t.dead_letters[1].error, Contains("unreadable OUT record"));
  CHECK_THAT(t.dead_letters[2].error, Contains("bad date or time in DENY"));
  CHECK_THAT(t.dead_letters[3].error, Contains("unreadable OUT record"));
  CHECK_THAT(t.dead_letters[4].error, Contains("bad date or time in IN"));
  CHECK_THAT(t.dead_letters[5].error, Contains("bad timestamp"));
  CHECK(t.skipped == 2);
}
