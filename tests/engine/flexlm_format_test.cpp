// `format: flexlm` (SPEC §1): FlexNet debug-log lines -> events. Expected timestamps were computed
// independently (Python datetime) from the dates and times in the logs.
#include <catch2/catch.hpp>

#include "tests/engine/log_format_test_util.h"
#include "tests/test_util.h"

using namespace licflow;
using namespace licflow::test;
using Catch::Matchers::Contains;

TEST_CASE("flexlm: license events of a debug log become events with date, count and reason",
          "[flexlm][spec-1]") {
  const std::string log =
      " 9:00:00 (lmgrd) FlexNet Licensing (v11.16.2.0 build 251234 x64_lsb) started on lic01 "
      "(linux) (11/27/2026)\n"
      " 9:00:00 (lmgrd) Copyright (c) 1988-2018 Flexera. All Rights Reserved.\n"
      " 9:00:01 (MLM) Server started on lic01 for:\tMATLAB SIMULINK\n"
      " 9:14:37 (MLM) OUT: \"MATLAB\" jdoe@ws042  \n"
      " 9:15:02 (MLM) OUT: \"Optimization_Toolbox\" jdoe@ws042  (2 licenses)\n"
      "10:02:11 (MLM) IN: \"MATLAB\" jdoe@ws042  (INACTIVE)\n"
      "10:05:00 (MLM) DENIED: \"MATLAB\" asmith@ws007  (Licensed number of users already "
      "reached. (-4,342))\n"
      "10:05:30 (MLM) UNSUPPORTED: \"Wavelet_Toolbox\" asmith@ws007  (License server system does "
      "not support this feature. (-18,327:10054 ))\n"
      "10:06:00 (MLM) QUEUED: \"MATLAB\" bob@ws009  \n"
      "10:07:00 (MLM) DEQUEUED: \"MATLAB\" bob@ws009  \n"
      "11:00:00 (MLM) IN: \"Optimization_Toolbox\" jdoe@ws042  (2 licenses) (SHUTDOWN)\r\n";
  const std::vector<std::string> expected = {
      R"({"ts":1795770000000,"type":"server_down","server":"default"})",
      R"({"ts":1795770000000,"type":"server_up","server":"default"})",
      R"({"ts":1795770877000,"type":"checkout","server":"default","feature":"MATLAB","user":"jdoe","host":"ws042"})",
      R"({"ts":1795770902000,"type":"checkout","server":"default","feature":"Optimization_Toolbox","user":"jdoe","host":"ws042","count":2})",
      R"({"ts":1795773731000,"type":"checkin","server":"default","feature":"MATLAB","user":"jdoe","host":"ws042","reason":"inactive"})",
      R"({"ts":1795773900000,"type":"denied","server":"default","feature":"MATLAB","user":"asmith","host":"ws007"})",
      R"({"ts":1795773930000,"type":"denied","server":"default","feature":"Wavelet_Toolbox","user":"asmith","host":"ws007","reason":"unsupported"})",
      R"({"ts":1795773960000,"type":"queued","server":"default","feature":"MATLAB","user":"bob","host":"ws009"})",
      R"({"ts":1795774020000,"type":"dequeued","server":"default","feature":"MATLAB","user":"bob","host":"ws009"})",
      R"({"ts":1795777200000,"type":"checkin","server":"default","feature":"Optimization_Toolbox","user":"jdoe","host":"ws042","count":2,"reason":"shutdown"})",
  };
  for (size_t chunk_bytes : {size_t{1}, size_t{1} << 20}) {
    Translated t = translate_log(log, log_format("flexlm"), chunk_bytes);
    CHECK(t.events == expected);
    CHECK(t.dead_letters.empty());
    CHECK(t.skipped == 2);  // the copyright line and the vendor daemon's start line
  }
}

TEST_CASE("flexlm: midnight from the clock going backwards, TIMESTAMP lines, zone and server",
          "[flexlm][spec-1]") {
  const std::string log =
      "23:58:00 (lmgrd) TIMESTAMP 12/31/2026\n"
      "23:59:59 (cadd) OUT: cad_base u1@h1\n"          // a bare feature name (older daemons)
      " 0:00:05 (cadd) IN: \"cad_base\" u1@h1\n"       // earlier than 23:59:59: 1/1/2027
      " 6:00:00 (lmgrd) TIMESTAMP 1/3/2027\n"          // an explicit date wins over counting
      " 7:00:00 (cadd) OUT: \"cad_base\" u2\n";        // a user without host
  Translated t = translate_log(log, log_format("flexlm", "eu1", 60));
  const std::vector<std::string> expected = {
      R"({"ts":1798757999000,"type":"checkout","server":"eu1","feature":"cad_base","user":"u1","host":"h1"})",
      R"({"ts":1798758005000,"type":"checkin","server":"eu1","feature":"cad_base","user":"u1","host":"h1"})",
      R"({"ts":1798956000000,"type":"checkout","server":"eu1","feature":"cad_base","user":"u2"})",
  };
  CHECK(t.events == expected);
  CHECK(t.dead_letters.empty());
  CHECK(t.skipped == 2);
}

TEST_CASE("flexlm: a start-up banner later in the log is a restart on the banner's date",
          "[flexlm][spec-1]") {
  const std::string log =
      "11:00:00 (lmgrd) TIMESTAMP 11/27/2026\n"
      "11:00:01 (MLM) OUT: \"MATLAB\" a@b\n"
      " 8:30:00 (lmgrd) FLEXnet Licensing (v11.9.0.0 build 87342 x64_lsb) started on lic "
      "(linux) (11/28/2026)\n"
      " 8:31:00 (MLM) OUT: \"MATLAB\" a@b\n";
  Translated t = translate_log(log, log_format("flexlm", "s1"));
  REQUIRE(t.events.size() == 4);
  CHECK(t.events[1] == R"({"ts":1795854600000,"type":"server_down","server":"s1"})");
  CHECK(t.events[2] == R"({"ts":1795854600000,"type":"server_up","server":"s1"})");
  CHECK(t.events[3] ==
        R"({"ts":1795854660000,"type":"checkout","server":"s1","feature":"MATLAB","user":"a","host":"b"})");
}

TEST_CASE("flexlm: unreadable lines are dead letters with their original line numbers",
          "[flexlm][spec-1][dead-letter]") {
  const std::string long_line = " 9:00:09 (MLM) OUT: \"" + std::string(kMaxLineBytes, 'x') + "\"";
  const std::string log =
      "hello world\n"                                             // 1: not a debug log line
      " 9:00:00 (MLM) OUT: \"MATLAB\" a@b\n"                      // 2: no date yet
      " 9:00:01 (lmgrd) TIMESTAMP 11/27/2026\n"                   // 3
      "\n"                                                        // 4: blank
      " 9:00:02 (MLM) OUT: \"MATLAB\" a@b  (0 licenses)\n"        // 5: bad count
      " 9:00:03 (MLM) OUT: \"MATLAB a@b\n"                        // 6: unterminated feature
      " 9:00:04 (MLM) OUT: \"MATLAB\" a@b\n"                      // 7: good
      " 9:00:05 (lmgrd) TIMESTAMP 13/45/2026\n"                   // 8: bad date
      " 9:00:06 (MLM) OUT: \"M\xff\" a@b\n" +                     // 9: invalid UTF-8
      long_line + "\n"                                            // 10: longer than 1 MiB
      "25:00:00 (MLM) OUT: \"MATLAB\" a@b\n";                     // 11: bad time
  for (size_t chunk_bytes : {size_t{1}, size_t{1} << 20}) {
    Translated t = translate_log(log, log_format("flexlm"), chunk_bytes);
    REQUIRE(t.events.size() == 1);
    CHECK(t.events[0] ==
          R"({"ts":1795770004000,"type":"checkout","server":"default","feature":"MATLAB","user":"a","host":"b"})");
    std::vector<uint64_t> lines;
    for (const RawDeadLetter& d : t.dead_letters) lines.push_back(d.line);
    CHECK(lines == std::vector<uint64_t>{1, 2, 5, 6, 8, 9, 10, 11});
    REQUIRE(t.dead_letters.size() == 8);
    CHECK_THAT(t.dead_letters[0].error, Contains("not a debug log line"));
    CHECK(t.dead_letters[0].raw == "hello world");
    CHECK_THAT(t.dead_letters[1].error, Contains("no date yet"));
    CHECK_THAT(t.dead_letters[2].error, Contains("bad license count"));
    CHECK_THAT(t.dead_letters[3].error, Contains("unterminated feature"));
    CHECK_THAT(t.dead_letters[4].error, Contains("bad TIMESTAMP date"));
    CHECK_THAT(t.dead_letters[5].error, Contains("invalid UTF-8"));
    CHECK_THAT(t.dead_letters[6].error, Contains("longer than 1 MiB"));
    CHECK(t.dead_letters[6].raw.size() == 512);
    CHECK_THAT(t.dead_letters[7].error, Contains("not a debug log line"));
    CHECK(t.skipped == 1);  // the good TIMESTAMP line
  }
}

TEST_CASE("flexlm: `(N licenses)` takes any 64-bit count >= 1", "[flexlm][spec-1]") {
  const std::string log =
      " 9:00:00 (lmgrd) TIMESTAMP 11/27/2026\n"
      " 9:00:01 (MLM) OUT: \"tok\" a@b  (9223372036854775807 licenses)\n"
      " 9:00:02 (MLM) OUT: \"tok\" a@b  (9223372036854775808 licenses)\n"
      " 9:00:03 (MLM) OUT: \"tok\" a@b  (0 licenses)\n"
      " 9:00:04 (MLM) OUT: \"tok\" a@b  (-1 licenses)\n"
      " 9:00:05 (MLM) OUT: \"tok\" a@b  (+2 licenses)\n";
  Translated t = translate_log(log, log_format("flexlm"));
  REQUIRE(t.events.size() == 2);
  CHECK_THAT(t.events[0], Contains(R"("count":9223372036854775807)"));
  CHECK_THAT(t.events[1], Contains(R"("count":2)"));
  std::vector<uint64_t> lines;
  for (const RawDeadLetter& d : t.dead_letters) {
    lines.push_back(d.line);
    CHECK_THAT(d.error, Contains("bad license count"));
  }
  CHECK(lines == std::vector<uint64_t>{3, 4, 5});
}

TEST_CASE("flexlm: a resumed log replays earlier lines for their dates but emits nothing for them",
          "[flexlm][spec-7]") {
  const std::string log =
      "10:00:00 (lmgrd) TIMESTAMP 11/27/2026\n"
      "10:02:11 (MLM) OUT: \"MATLAB\" a@b\n"
      "garbage\n"
      "11:00:00 (MLM) IN: \"MATLAB\" a@b\n";
  Translated t = translate_log(log, log_format("flexlm"), 1, /*replay_until=*/4);
  CHECK(t.events == std::vector<std::string>{
                        R"({"ts":1795777200000,"type":"checkin","server":"default","feature":"MATLAB","user":"a","host":"b"})"});
  CHECK(t.dead_letters.empty());
  CHECK(t.skipped == 0);
}

TEST_CASE("flexlm: a named time zone follows its daylight saving time", "[flexlm][spec-1]") {
  // Europe/Berlin: UTC+1, and UTC+2 from 2026-03-29 02:00 local (the clock jumps to 03:00).
  const std::string log =
      " 1:00:00 (lmgrd) TIMESTAMP 3/29/2026\n"
      " 1:30:00 (cadd) OUT: \"cad\" u1@h1\n"   // CET: 00:30Z
      " 3:30:00 (cadd) IN: \"cad\" u1@h1\n"    // CEST: 01:30Z, one hour after the checkout
      "11:00:00 (lmgrd) TIMESTAMP 7/1/2026\n"
      "12:00:00 (cadd) OUT: \"cad\" u2@h2\n";  // CEST: 10:00Z
  SourceFormat format = log_format("flexlm", "eu1");
  format.zone = find_time_zone("Europe/Berlin");
  REQUIRE(format.zone != nullptr);
  Translated t = translate_log(log, format);
  REQUIRE(t.events.size() == 3);
  CHECK_THAT(t.events[0], Contains(R"("ts":1774744200000,"type":"checkout")"));
  CHECK_THAT(t.events[1], Contains(R"("ts":1774747800000,"type":"checkin")"));
  CHECK_THAT(t.events[2], Contains(R"("ts":1782900000000,"type":"checkout")"));
  CHECK(find_time_zone("Mars/Olympus_Mons") == nullptr);
}

TEST_CASE("flexlm: the hour repeated when daylight saving time ends is not a midnight",
          "[flexlm][spec-1]") {
  // Europe/Berlin, 2026-10-25: at 03:00 CEST the clock goes back to 02:00 CET.
  const std::string log =
      " 1:30:00 (lmgrd) TIMESTAMP 10/25/2026\n"
      " 2:30:00 (cadd) OUT: \"cad\" u1@h1\n"   // CEST, first pass: 00:30Z
      " 2:59:59 (cadd) OUT: \"cad\" u2@h2\n"   // 00:59:59Z
      " 2:10:00 (cadd) IN: \"cad\" u1@h1\n"    // back into the hour, CET: 01:10Z, same day
      " 3:30:00 (cadd) IN: \"cad\" u2@h2\n"    // CET: 02:30Z
      " 0:10:00 (cadd) OUT: \"cad\" u3@h3\n";  // a real midnight: 10/26 00:10 CET = 23:10Z
  SourceFormat format = log_format("flexlm", "eu1");
  format.zone = find_time_zone("Europe/Berlin");
  REQUIRE(format.zone != nullptr);
  Translated t = translate_log(log, format);
  REQUIRE(t.events.size() == 5);
  CHECK_THAT(t.events[0], Contains(R"("ts":1792888200000,"type":"checkout")"));
  CHECK_THAT(t.events[1], Contains(R"("ts":1792889999000,"type":"checkout")"));
  CHECK_THAT(t.events[2], Contains(R"("ts":1792890600000,"type":"checkin")"));
  CHECK_THAT(t.events[3], Contains(R"("ts":1792895400000,"type":"checkin")"));
  CHECK_THAT(t.events[4], Contains(R"("ts":1792969800000,"type":"checkout")"));
}

TEST_CASE("flexlm: a TIMESTAMP inside the repeated hour keeps its second pass",
          "[flexlm][spec-1]") {
  // Europe/Berlin, 2023-10-29: at 03:00 CEST the clock goes back to 02:00 CET.
  const std::string log =
      " 1:50:00 (lmgrd) TIMESTAMP 10/29/2023\n"
      " 2:50:00 (MLM) OUT: \"A\" u@h\n"          // CEST: 00:50Z
      " 2:10:00 (MLM) OUT: \"B\" u@h\n"          // back into the hour, CET: 01:10Z
      " 2:20:00 (lmgrd) TIMESTAMP 10/29/2023\n"  // still the second pass
      " 2:30:00 (MLM) IN: \"B\" u@h\n"           // CET: 01:30Z
      " 3:10:00 (lmgrd) TIMESTAMP 10/29/2023\n"  // past the hour
      " 3:20:00 (MLM) IN: \"A\" u@h\n";          // CET: 02:20Z
  SourceFormat format = log_format("flexlm", "eu1");
  format.zone = find_time_zone("Europe/Berlin");
  REQUIRE(format.zone != nullptr);
  Translated t = translate_log(log, format);
  REQUIRE(t.events.size() == 4);
  CHECK_THAT(t.events[0], Contains(R"("ts":1698540600000,"type":"checkout")"));
  CHECK_THAT(t.events[1], Contains(R"("ts":1698541800000,"type":"checkout")"));
  CHECK_THAT(t.events[2], Contains(R"("ts":1698543000000,"type":"checkin")"));
  CHECK_THAT(t.events[3], Contains(R"("ts":1698546000000,"type":"checkin")"));
}

TEST_CASE("flexlm: time zones are UTC, fixed offsets or zone names", "[flexlm][spec-1]") {
  CHECK(parse_utc_offset("UTC") == 0);
  CHECK(parse_utc_offset("Z") == 0);
  CHECK(parse_utc_offset("+01:00") == 60);
  CHECK(parse_utc_offset("-05:30") == -330);
  CHECK(parse_utc_offset("+0200") == 120);
  CHECK(parse_utc_offset("-03") == -180);
  CHECK_FALSE(parse_utc_offset("Europe/Berlin"));
  CHECK_FALSE(parse_utc_offset("+1:00"));
  CHECK_FALSE(parse_utc_offset("+15:00"));
}

TEST_CASE("flexlm: source options are checked when the pipeline loads", "[flexlm][spec-3]") {
  auto errors = [](const std::string& source) {
    return pipeline_errors("name: t\nsources:\n  s: " + source +
                           "\nsinks:\n  o: {type: stdout, input: s}\n");
  };
  CHECK(errors("{type: file, path: x.log, format: flexlm, server: lic01, timezone: '+01:00'}")
            .empty());
  CHECK(errors("{type: tcp, listen: '127.0.0.1:0', format: rlm, timezone: UTC}").empty());
  CHECK(errors("{type: stdin, format: flexlm, timezone: Europe/Berlin}").empty());
  auto bad_zone = errors("{type: stdin, format: flexlm, timezone: Mars/Olympus_Mons}");
  REQUIRE(bad_zone.size() == 1);
  CHECK_THAT(bad_zone[0], Contains("timezone must be UTC, a fixed offset such as +01:00 or a "
                                   "zone name such as Europe/Berlin, got `Mars/Olympus_Mons`"));
  auto jsonl_server = errors("{type: file, path: x.jsonl, server: lic01}");
  REQUIRE(jsonl_server.size() == 1);
  CHECK_THAT(jsonl_server[0], Contains("applies only to the log formats"));
  auto unknown = errors("{type: file, path: x.log, format: lmgrd}");
  REQUIRE(unknown.size() == 1);
  CHECK_THAT(unknown[0], Contains("unknown format `lmgrd`"));
}

TEST_CASE("flexlm: licflow run of a flexlm file into license_state closes checkouts on restart",
          "[flexlm][spec-1][runtime]") {
  TempDir dir;
  write_file(dir.file("lmgrd.log"),
             " 9:00:00 (lmgrd) FlexNet Licensing (v11.16.2.0 build 1 x64_lsb) started on lic01 "
             "(linux) (11/27/2026)\n"
             " 9:14:37 (MLM) OUT: \"MATLAB\" jdoe@ws042  \n"
             " 9:15:02 (MLM) OUT: \"MATLAB\" asmith@ws007  \n"
             "10:02:11 (MLM) IN: \"MATLAB\" jdoe@ws042  (INACTIVE)\n"
             "10:30:00 (MLM) garbage without a keyword\n"
             "not a log line\n"
             " 8:30:00 (lmgrd) FlexNet Licensing (v11.16.2.0 build 1 x64_lsb) started on lic01 "
             "(linux) (11/28/2026)\n");
  auto plan = load_plan(
      "name: t\n"
      "dead_letter: {path: " + dir.file("dead.jsonl") + "}\n"
      "sources:\n"
      "  lmgrd: {type: file, path: " + dir.file("lmgrd.log") + ", format: flexlm, server: lic01}\n"
      "operators:\n"
      "  state: {type: license_state, input: lmgrd}\n"
      "sinks:\n"
      "  out: {type: file, path: " + dir.file("out.jsonl") + ", input: [state.sessions]}\n");
  RunOptions options;
  options.metrics_file = dir.file("final.prom");
  auto result = run_plan(*plan, options);
  INFO(result.status().message());
  REQUIRE(result.is_ok());
  CHECK(result.value().dead_letters == 1);
  // The line without a keyword is skipped, and counted where users see it (SPEC §1).
  CHECK(result.value().nodes.at(0).dropped == 1);
  CHECK_THAT(format_summary(*plan, result.value()), Contains("skipped 1\n"));
  CHECK_THAT(read_file(dir.file("final.prom")),
             Contains("licflow_source_skipped_lines_total{source=\"lmgrd\"} 1\n"));
  const std::vector<std::string> sessions = read_lines(dir.file("out.jsonl"));
  REQUIRE(sessions.size() == 2);
  // jdoe: 9:14:37 -> 10:02:11 inactive; asmith: open until the restart the next morning.
  CHECK_THAT(sessions[0], Contains("\"user\":\"jdoe\"") && Contains("\"end_reason\":\"inactive\"") &&
                              Contains("\"duration_s\":2854") &&
                              Contains("\"server\":\"lic01\""));
  CHECK_THAT(sessions[1], Contains("\"user\":\"asmith\"") &&
                              Contains("\"end_reason\":\"server_down\"") &&
                              Contains("\"end\":\"2026-11-28T08:30:00.000Z\""));
  const std::vector<std::string> dead = read_lines(dir.file("dead.jsonl"));
  REQUIRE(dead.size() == 1);
  CHECK_THAT(dead[0], Contains("\"line\":6") && Contains("\"source\":\"lmgrd\""));
}

TEST_CASE("flexlm: a vendor daemon restarted alone closes what was open; the one at start-up does "
          "not repeat the banner's",
          "[flexlm][spec-1]") {
  const std::string log =
      " 9:00:00 (lmgrd) FlexNet Licensing (v11.16.2.0 build 251234 x64_lsb) started on lic01 "
      "(linux) (11/27/2026)\n"
      " 9:00:01 (MLM) Server started on lic01 for:\tMATLAB\n"
      " 9:00:01 (SW_D) Server started on lic01 for:\tsolidworks\n"  // a second vendor daemon
      " 9:14:37 (MLM) OUT: \"MATLAB\" jdoe@ws042  \n"
      " 9:20:00 (lmgrd) MLM exited with status 1 (Exited because another server was running)\n"
      " 9:20:05 (lmgrd) Started MLM (internet tcp_port 50212 pid 12345)\n"
      " 9:20:06 (MLM) Server started on lic01 for:\tMATLAB\n";
  Translated t = translate_log(log, log_format("flexlm", "s1"));
  const std::vector<std::string> expected = {
      R"({"ts":1795770000000,"type":"server_down","server":"s1"})",
      R"({"ts":1795770000000,"type":"server_up","server":"s1"})",
      R"({"ts":1795770877000,"type":"checkout","server":"s1","feature":"MATLAB","user":"jdoe","host":"ws042"})",
      R"({"ts":1795771206000,"type":"server_down","server":"s1"})",
      R"({"ts":1795771206000,"type":"server_up","server":"s1"})",
  };
  CHECK(t.events == expected);
  CHECK(t.dead_letters.empty());
}

TEST_CASE("flexlm: a vendor daemon's first start after another's license events is no restart",
          "[flexlm][spec-1]") {
  // cdslmd had not run: its start closes nothing; MLM had (a license event), so its start is a
  // restart. A banner whose date is no date is a dead letter, not a skipped line.
  const std::string log =
      " 9:13:24 (lmgrd) FlexNet Licensing (v11.16.2.0 build 251234 x64_lsb) started on lic01 "
      "(linux) (11/27/2026)\n"
      " 9:13:26 (MLM) OUT: \"MATLAB\" a@b  \n"
      " 9:13:29 (cdslmd) Server started on lic01 for: Virtuoso\n"
      " 9:20:00 (MLM) IN: \"MATLAB\" a@b  \n"
      " 9:30:00 (MLM) Server started on lic01 for: MATLAB\n"
      " 9:40:00 (lmgrd) FlexNet Licensing (v11.16.2.0) started on lic01 (linux) (11/34/2026)\n";
  Translated t = translate_log(log, log_format("flexlm", "s1"));
  const std::vector<std::string> expected = {
      R"({"ts":1795770804000,"type":"server_down","server":"s1"})",
      R"({"ts":1795770804000,"type":"server_up","server":"s1"})",
      R"({"ts":1795770806000,"type":"checkout","server":"s1","feature":"MATLAB","user":"a","host":"b"})",
      R"({"ts":1795771200000,"type":"checkin","server":"s1","feature":"MATLAB","user":"a","host":"b"})",
      R"({"ts":1795771800000,"type":"server_down","server":"s1"})",
      R"({"ts":1795771800000,"type":"server_up","server":"s1"})",
  };
  CHECK(t.events == expected);
  REQUIRE(t.dead_letters.size() == 1);
  CHECK(t.dead_letters[0].line == 6);
  CHECK(t.dead_letters[0].error == "flexlm: bad date in a start-up banner (expected m/d/yyyy)");
}

TEST_CASE("flexlm: UNSUPPORTED with its license source group, and user names with spaces",
          "[flexlm][spec-1]") {
  const std::string log =
      " 9:00:00 (lmgrd) TIMESTAMP 11/27/2026\n"
      " 9:05:00 (MLM) UNSUPPORTED: \"Signal_Toolbox\" (PORT_AT_HOST_PLUS   ) jdoe@ws01  (License "
      "server system does not support this feature. (-18,327:10054 \"\"))\n"
      " 9:06:00 (MLM) OUT: \"MATLAB\" John Doe@PC-1.example.com  (2 licenses)\n"
      " 9:07:00 (MLM) IN: \"MATLAB\" John Doe@PC-1.example.com  (2 licenses)\n";
  Translated t = translate_log(log, log_format("flexlm", "s1"));
  const std::vector<std::string> expected = {
      R"({"ts":1795770300000,"type":"denied","server":"s1","feature":"Signal_Toolbox","user":"jdoe","host":"ws01","reason":"unsupported"})",
      R"({"ts":1795770360000,"type":"checkout","server":"s1","feature":"MATLAB","user":"John Doe","host":"PC-1.example.com","count":2})",
      R"({"ts":1795770420000,"type":"checkin","server":"s1","feature":"MATLAB","user":"John Doe","host":"PC-1.example.com","count":2})",
  };
  CHECK(t.events == expected);
  CHECK(t.dead_letters.empty());
}

TEST_CASE("flexlm: an event the parser rejects is a dead letter with its log line's number",
          "[flexlm][spec-1][runtime]") {
  // Past 9999-12-31 the ts is out of range (SPEC §2 outputs are RFC 3339): a parser dead letter
  // of a rewritten line, which must carry the number of the log line it came from (4), not its
  // place among the rewritten lines (2).
  TempDir dir;
  write_file(dir.file("lmgrd.log"),
             "23:59:00 (lmgrd) TIMESTAMP 12/31/9999\n"
             "23:59:30 (MLM) OUT: \"MATLAB\" a@b\n"
             "23:59:40 (MLM) a line that is no license event\n"
             " 0:00:05 (MLM) OUT: \"MATLAB\" c@d\n");
  auto plan = load_plan("name: t\ndead_letter: {path: " + dir.file("dead.jsonl") + "}\n"
                        "sources:\n  lmgrd: {type: file, path: " + dir.file("lmgrd.log") +
                        ", format: flexlm}\n"
                        "sinks:\n  out: {type: file, path: " + dir.file("out.jsonl") +
                        ", input: lmgrd}\n");
  auto result = run_plan(*plan, RunOptions{});
  REQUIRE(result.is_ok());
  CHECK(read_lines(dir.file("out.jsonl")).size() == 1);
  const std::vector<std::string> dead = read_lines(dir.file("dead.jsonl"));
  REQUIRE(dead.size() == 1);
  CHECK_THAT(dead[0], Contains("\"line\":4,") && Contains("out of range"));
}

TEST_CASE("flexlm: a license line without user or host is a dead letter", "[flexlm][spec-1]") {
  const std::string log =
      " 9:00:00 (lmgrd) TIMESTAMP 11/27/2026\n"
      " 9:05:00 (MLM) OUT: \"MATLAB\" \n"
      " 9:06:00 (MLM) OUT: \"MATLAB\" jdoe@ws01  \n"
      " 9:07:00 (MLM) OUT: \"MATLAB\" @ws02  \n";  // a host alone names who too
  Translated t = translate_log(log, log_format("flexlm", "s1"));
  REQUIRE(t.events.size() == 2);
  CHECK(t.events[1] ==
        R"({"ts":1795770420000,"type":"checkout","server":"s1","feature":"MATLAB","host":"ws02"})");
  REQUIRE(t.dead_letters.size() == 1);
  CHECK(t.dead_letters[0].line == 2);
  CHECK(t.dead_letters[0].error == "flexlm: missing user@host in `OUT:` line");
}
