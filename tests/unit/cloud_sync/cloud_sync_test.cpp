// cloud_sync on virtual time (fixture.hpp): provisioning, polling, reports.
#include "tests/unit/cloud_sync/fixture.hpp"

TEST_SUITE("cloud_sync provisioning") {
  TEST_CASE_FIXTURE(deterministic,
                    "registers with the provisioning key, records the outcome "
                    "in config.json and polls at once") {
    start(options(false),
          R"({"apiEndpoint":"https://api.example","apiKey":"pk",)"
          R"("applicationId":1011165,"persistentLogging":true})");
    auto reg = take("POST", "/device/register");
    CHECK(reg.header("Authorization") == "Bearer pk");
    CHECK(reg.req.body.find(R"("uuid":")" + uuid + "\"") != std::string::npos);
    CHECK(reg.req.body.find(R"("api_key":"dk")") != std::string::npos);
    CHECK(reg.req.body.find(R"("application":1011165)") != std::string::npos);
    // uuid and key reach config.json before the cloud answers.
    CHECK(config_text().find(R"("deviceApiKey":"dk")") != std::string::npos);
    CHECK(pending("GET", "/device/v3/") == 0);
    answer(reg, 201, R"({"id":5,"uuid":")" + uuid + "\"}");
    auto text = config_text();
    CHECK(text.find(R"("deviceId":5)") != std::string::npos);
    CHECK(text.find(R"("registered_at":1700000000000)") != std::string::npos);
    CHECK(text.find("\"apiKey\"") == std::string::npos);
    CHECK(text.find(R"("persistentLogging":true)") != std::string::npos);
    auto poll = take("GET", "/device/v3/" + uuid + "/state");
    CHECK(poll.header("Authorization") == "Bearer dk");
    CHECK(status().provisioned);
  }

  TEST_CASE_FIXTURE(deterministic,
                    "after a 409 the device key is set with the provisioning "
                    "key") {
    start(options(false), R"({"apiKey":"pk"})");
    auto reg = take("POST", "/device/register");
    answer(reg, 409, "conflict");
    auto mine = take("GET", "/v7/device?$select=id&$filter=uuid%20eq%20'");
    CHECK(mine.header("Authorization") == "Bearer dk");
    answer(mine, 200, R"({"d":[]})");
    auto theirs = take("GET", "/v7/device?");
    CHECK(theirs.header("Authorization") == "Bearer pk");
    answer(theirs, 200, R"({"d":[{"id":8}]})");
    auto key = take("POST", "/api-key/device/8/device-key");
    CHECK(key.header("Authorization") == "Bearer pk");
    CHECK(key.req.body == R"({"apiKey":"dk"})");
    answer(key, 200, "\"dk\"");
    CHECK(config_text().find(R"("deviceId":8)") != std::string::npos);
    take("GET", "/device/v3/");
  }

  TEST_CASE_FIXTURE(deterministic,
                    "after a 409 a device that already has our key is done") {
    start(options(false), R"({"apiKey":"pk"})");
    auto reg = take("POST", "/device/register");
    answer(reg, 409);
    auto mine = take("GET", "/v7/device?");
    answer(mine, 200, R"({"d":[{"id":3}]})");
    CHECK(config_text().find(R"("deviceId":3)") != std::string::npos);
    take("GET", "/device/v3/");
  }

  TEST_CASE_FIXTURE(deterministic,
                    "a key exchange the cloud refuses starts over as a new "
                    "device") {
    start(options(false), R"({"apiKey":"pk"})");
    auto reg = take("POST", "/device/register");
    answer(reg, 409);
    auto mine = take("GET", "/v7/device?");
    answer(mine, 401);
    auto theirs = take("GET", "/v7/device?");
    answer(theirs, 200, R"({"d":[]})");
    auto text = config_text();
    CHECK(text.find(uuid) == std::string::npos);
    CHECK(text.find(R"("apiKey":"pk")") != std::string::npos);
    advance(30s);
    auto again = take("POST", "/device/register");
    CHECK(again.req.body.find(uuid) == std::string::npos);
    CHECK(again.req.body.find(text.substr(text.find(R"("uuid":")") + 8, 32))
          != std::string::npos);
  }

  TEST_CASE_FIXTURE(deterministic, "a failed registration is retried after "
                                   "bootstrapRetryDelay") {
    start(options(false), R"({"apiKey":"pk"})");
    auto reg = take("POST", "/device/register");
    fail(reg);
    advance(29s);
    CHECK(pending("POST", "/device/register") == 0);
    advance(1s);
    auto again = take("POST", "/device/register");
    answer(again, 500);
    advance(30s);
    take("POST", "/device/register");
    // Nothing to poll yet: not a reason to restart the agent.
    advance(500s);
    CHECK(ask<agent_health>(health_atom_v).healthy);
    CHECK_FALSE(status().provisioned);
    CHECK(status().last_error.find("HTTP 500") != std::string::npos);
  }
}

TEST_SUITE("cloud_sync polling") {
  TEST_CASE_FIXTURE(deterministic,
                    "a new target goes to app_manager; the next poll comes "
                    "after the interval plus jitter, with If-None-Match") {
    start(options(true));
    auto poll = take("GET", "/device/v3/");
    CHECK(poll.header("If-None-Match").empty());
    answer(poll, 200, target_json("c1", "1"), "\"e1\"");
    REQUIRE(apps->applied.size() == 1);
    CHECK(apps->applied[0].target.apps.at(0).commit == "c1");
    CHECK_FALSE(apps->applied[0].force);
    advance(106999ms); // 100 s + 7 s jitter
    CHECK(pending("GET", "/device/v3/") == 0);
    advance(1ms);
    auto next = take("GET", "/device/v3/");
    CHECK(next.header("If-None-Match") == "\"e1\"");
    answer(next, 304);
    CHECK(apps->applied.size() == 1);
    advance(107s);
    auto third = take("GET", "/device/v3/");
    answer(third, 200, target_json("c2", "2"), "\"e2\"");
    REQUIRE(apps->applied.size() == 2);
    CHECK(apps->applied[1].target.apps.at(0).commit == "c2");
    CHECK(status().targets_applied == 2);
  }

  TEST_CASE_FIXTURE(deterministic,
                    "failures back off 30 s, 60 s, then the interval, without "
                    "jitter; a success goes back to the interval") {
    start(options(true));
    std::vector<milliseconds> gaps;
    auto last = take("GET", "/device/v3/");
    fail(last);
    for (int i = 0; i < 4; ++i) {
      auto t0 = last.at;
      for (int s = 0; s < 200 && pending("GET", "/device/v3/") == 0; ++s)
        advance(1s);
      last = take("GET", "/device/v3/");
      gaps.push_back(std::chrono::duration_cast<milliseconds>(last.at - t0));
      answer(last, 500, "boom");
    }
    CHECK(gaps == std::vector<milliseconds>{30s, 60s, 100s, 100s});
    CHECK(status().failure_streak == 5);
    advance(100s);
    auto ok = take("GET", "/device/v3/");
    answer(ok, 200, target_json("c1", "1"), "\"e1\"");
    CHECK(status().failure_streak == 0);
    advance(106s);
    CHECK(pending("GET", "/device/v3/") == 0);
    advance(1s);
    take("GET", "/device/v3/");
  }

  TEST_CASE_FIXTURE(deterministic,
                    "/v1/update polls at once; with force an unchanged target "
                    "is applied again with force") {
    start(options(true));
    settle_first_poll();
    advance(1s); // polls go at least a second apart
    CHECK(ask<bool>(update_request{}));
    auto now = take("GET", "/device/v3/");
    answer(now, 304);
    CHECK(apps->applied.size() == 1);
    advance(1s);
    CHECK(ask<bool>(update_request{true, false}));
    auto forced = take("GET", "/device/v3/");
    answer(forced, 304);
    REQUIRE(apps->applied.size() == 2);
    CHECK(apps->applied[1].force);
    CHECK(apps->applied[1].target.apps.at(0).commit == "c1");
  }

  TEST_CASE_FIXTURE(deterministic,
                    "/v1/update during a poll polls again after it, a second "
                    "after it started") {
    start(options(true));
    auto first = take("GET", "/device/v3/");
    CHECK(ask<bool>(update_request{}));
    CHECK(pending("GET", "/device/v3/") == 0);
    answer(first, 500);
    advance(1s);
    take("GET", "/device/v3/");
  }

  TEST_CASE_FIXTURE(deterministic,
                    "the target's SUPERVISOR_POLL_INTERVAL sets the interval; "
                    "without instant updates only a forced update polls") {
    start(options(true));
    auto poll = take("GET", "/device/v3/");
    auto t = target_json("c1", "1");
    t.replace(t.find(R"("config":{})"), 11,
              R"("config":{"RESIN_SUPERVISOR_POLL_INTERVAL":"20000",)"
              R"("BALENA_SUPERVISOR_INSTANT_UPDATE_TRIGGER":"false"})");
    answer(poll, 200, t, "\"e1\"");
    advance(26999ms); // 20 s + 7 s jitter
    CHECK(pending("GET", "/device/v3/") == 0);
    advance(1ms);
    auto next = take("GET", "/device/v3/");
    answer(next, 304);
    CHECK_FALSE(ask<bool>(update_request{}));
    CHECK(pending("GET", "/device/v3/") == 0);
    CHECK(ask<bool>(update_request{true, false}));
    advance(1s);
    take("GET", "/device/v3/");
  }

  TEST_CASE_FIXTURE(deterministic,
                    "the target's SUPERVISOR_LOG_CONTROL turns log shipping "
                    "off and on again") {
    start(options(true));
    auto poll = take("GET", "/device/v3/");
    auto off = target_json("c1", "1");
    off.replace(off.find(R"("config":{})"), 11,
                R"("config":{"BALENA_SUPERVISOR_LOG_CONTROL":"false"})");
    answer(poll, 200, off, "\"e1\"");
    REQUIRE_FALSE(shipping->empty());
    CHECK_FALSE(shipping->back().enabled);
    CHECK(shipping->back().uuid == uuid);
    auto told = shipping->size();
    advance(107s); // the interval and the jitter
    auto again = take("GET", "/device/v3/");
    answer(again, 304);
    CHECK(shipping->size() == told); // nothing changed, nothing told
    advance(107s);
    auto next = take("GET", "/device/v3/");
    answer(next, 200, target_json("c2", "2"), "\"e2\"");
    CHECK(shipping->back().enabled);
    CHECK(shipping->back().endpoint == "https://api.example");
    CHECK(shipping->back().api_key == "dk");
  }

  TEST_CASE_FIXTURE(deterministic,
                    "/v1/update before provisioning is ignored") {
    start(options(false), R"({"apiKey":"pk"})");
    CHECK_FALSE(ask<bool>(update_request{true, false}));
  }

  TEST_CASE_FIXTURE(deterministic,
                    "an invalid target is rejected: app_manager gets nothing "
                    "and it is not fetched again") {
    start(options(true));
    auto poll = take("GET", "/device/v3/");
    auto bad = target_json("c1", "1");
    bad.replace(bad.find(R"("web")"), 5, R"("-web")"); // invalid name
    answer(poll, 200, bad, "\"bad\"");
    CHECK(apps->applied.empty());
    auto st = status();
    CHECK(st.targets_rejected == 1);
    CHECK(st.last_rejection.find("service name") != std::string::npos);
    advance(107s);
    auto next = take("GET", "/device/v3/");
    CHECK(next.header("If-None-Match") == "\"bad\"");
    answer(next, 200, "{not json", "\"worse\"");
    CHECK(apps->applied.empty());
    CHECK(status().targets_rejected == 2);
  }

  TEST_CASE_FIXTURE(deterministic,
                    "unhealthy after two intervals without a good poll, "
                    "healthy again after one") {
    start(options(true));
    auto poll = take("GET", "/device/v3/");
    fail(poll);
    CHECK(ask<agent_health>(health_atom_v).healthy);
    for (int i = 0; i < 200; ++i) {
      advance(1s);
      while (pending("GET", "/device/v3/") > 0) {
        auto p = take("GET", "/device/v3/");
        fail(p);
      }
    }
    auto h = ask<agent_health>(health_atom_v);
    CHECK_FALSE(h.healthy);
    REQUIRE(h.problems.size() == 1);
    CHECK(h.problems[0].find("no target") != std::string::npos);
    CHECK(ask<bool>(update_request{}));
    settle_first_poll();
    CHECK(ask<agent_health>(health_atom_v).healthy);
  }
}

TEST_SUITE("cloud_sync health") {
  TEST_CASE_FIXTURE(deterministic,
                    "a poll that is only not due yet (jitter) keeps the device "
                    "healthy; one that never comes does not") {
    start(options(true));
    settle_first_poll();
    advance(107s);
    take("GET", "/device/v3/"); // never answered
    advance(93s);               // 2× the interval since the good poll
    CHECK(ask<agent_health>(health_atom_v).healthy);
    advance(60s); // plus the largest jitter
    CHECK_FALSE(ask<agent_health>(health_atom_v).healthy);
  }
}

TEST_SUITE("cloud_sync reports") {
  TEST_CASE_FIXTURE(deterministic,
                    "the first report describes everything; a change waits "
                    "for the 10 s mark and sends apps only") {
    start(options(true));
    settle_first_poll();
    auto first = take("PATCH", "/device/v3/state");
    CHECK(first.header("Authorization") == "Bearer dk");
    CHECK(first.req.body.find(R"("api_secret":"secret")") != std::string::npos);
    CHECK(first.req.body.find(R"("ip_address":"192.168.1.10")")
          != std::string::npos);
    CHECK(first.req.body.find(R"("status":"Idle")") != std::string::npos);
    CHECK(first.req.body.find(R"("status":"Running")") != std::string::npos);
    answer(first, 200);
    // The service exits 3 s later.
    advance(3s);
    set_web("exited");
    advance(1s);
    CHECK(pending("PATCH", "/device/v3/state") == 0);
    advance(5s);
    CHECK(pending("PATCH", "/device/v3/state") == 0);
    advance(1s);
    auto second = take("PATCH", "/device/v3/state");
    CHECK(second.at - first.at >= 10s);
    CHECK(second.req.body
          == R"({")" + uuid + R"(":{"apps":{")" + app_uuid
               + R"(":{"release_uuid":"c1","releases":{"c1":{"update_status":)"
                 R"("done","services":{"web":{"image":"reg/web:1","status":)"
                 R"("exited"}}}}}}}})");
    answer(second, 200);
    // Nothing changes: nothing is sent, even after minutes.
    advance(299s);
    CHECK(pending("PATCH", "/device/v3/state") == 0);
    CHECK(status().reports_sent == 2);
  }

  TEST_CASE_FIXTURE(deterministic,
                    "without the apps from app_manager the device fields are "
                    "still reported, 10 s after start") {
    auto mute = sys.spawn(mute_app_manager);
    start(options(true), "{}", mute);
    settle_first_poll();
    advance(9s);
    CHECK(pending("PATCH", "/device/v3/state") == 0);
    advance(1s);
    auto r = take("PATCH", "/device/v3/state");
    CHECK(r.req.body.find(R"("api_port":48484)") != std::string::npos);
    CHECK(r.req.body.find("\"apps\"") == std::string::npos);
    self->send_exit(mute, caf::exit_reason::user_shutdown);
  }

  TEST_CASE_FIXTURE(deterministic,
                    "a metrics change alone waits for 300 s of silence") {
    start(options(true));
    settle_first_poll();
    auto first = take("PATCH", "/device/v3/state");
    answer(first, 200);
    host->memory_usage = 900; // crosses the 10 MiB bucket
    advance(31s);             // the host is sampled every 30 s
    CHECK(pending("PATCH", "/device/v3/state") == 0);
    advance(268s);
    CHECK(pending("PATCH", "/device/v3/state") == 0);
    advance(2s);
    auto metrics = take("PATCH", "/device/v3/state");
    CHECK(metrics.req.body == R"({")" + uuid + R"(":{"memory_usage":900}})");
  }

  TEST_CASE_FIXTURE(deterministic,
                    "an address change is sent with the next report") {
    start(options(true));
    settle_first_poll();
    auto first = take("PATCH", "/device/v3/state");
    answer(first, 200);
    host->ip_address = "10.0.0.7";
    advance(30s);
    auto next = take("PATCH", "/device/v3/state");
    CHECK(next.req.body == R"({")" + uuid + R"(":{"ip_address":"10.0.0.7"}})");
  }

  TEST_CASE_FIXTURE(deterministic,
                    "a failed report is retried after Retry-After "
                    "milliseconds, else after the backoff") {
    start(options(true));
    settle_first_poll();
    auto first = take("PATCH", "/device/v3/state");
    answer(first, 503, "busy", "", "45000");
    advance(44s);
    CHECK(pending("PATCH", "/device/v3/state") == 0);
    advance(1s);
    auto second = take("PATCH", "/device/v3/state");
    CHECK(second.req.body == first.req.body); // nothing was accepted
    fail(second);
    advance(59s); // the second failure in a row: 15 s·2²
    CHECK(pending("PATCH", "/device/v3/state") == 0);
    advance(1s);
    auto third = take("PATCH", "/device/v3/state");
    answer(third, 200);
    CHECK(status().reports_failed == 2);
    CHECK(status().reports_sent == 1);
  }
}
