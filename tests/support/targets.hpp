#pragma once

// Local targets for e2e tests (POST /v2/local/target-state bodies).
#include "tests/support/env.hpp"

#include <string>

namespace bosun::test {

// A target naming the device `device_name`, with app `app_id` (named
// `app_name`, release `commit`) of one service `service` (id `service_id`)
// on the test image that sleeps until stopped. Its container is
// <service>_<service_id>_1_<commit>.
inline std::string sleeper_target(int app_id, const std::string& app_name,
                                  const std::string& commit, int service_id,
                                  const std::string& service,
                                  const std::string& device_name) {
  auto image = required_env("BOSUN_TEST_IMAGE");
  auto sid = std::to_string(service_id);
  return R"({"local":{"name":")" + device_name + R"(","config":{},"apps":{")"
         + std::to_string(app_id) + R"(":{"name":")" + app_name
         + R"(","commit":")" + commit + R"(",)"
         + R"("releaseId":"1","services":{")" + sid + R"(":{"serviceName":")"
         + service + R"(",)" + R"("serviceId":)" + sid + R"(,"imageId":)" + sid
         + R"(,"image":")" + image
         + R"(","environment":{},"labels":{},"command":["/bin/sh","-c",)"
         + R"("trap 'exit 0' TERM; sleep 1000 & wait"]}},"volumes":{},)"
         + R"("networks":{}}}}})";
}

} // namespace bosun::test
