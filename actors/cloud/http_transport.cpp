#include "actors/cloud/http_transport.hpp"

#include "actors/cloud/report_build.hpp"
#include "api/client/client.hpp"
#include "api/cloud/device_http.hpp"

#include <asio/post.hpp>

namespace bosun {

std::optional<std::string> api_base(std::string_view url) {
  std::string_view scheme;
  if (url.substr(0, 7) == "http://")
    scheme = "http://";
  else if (url.substr(0, 8) == "https://")
    scheme = "https://";
  else
    return std::nullopt;
  auto rest = url.substr(scheme.size());
  auto end = rest.find_first_of("/?#");
  auto host = rest.substr(0, end);
  if (host.empty() || host.find('@') != std::string_view::npos)
    return std::nullopt;
  return std::string(scheme) + std::string(host);
}

std::string cloud_user_agent(std::string_view bosun_version,
                             std::string_view os_version, bool development) {
  return cloud::user_agent(cloud_report::supervisor_version, bosun_version,
                           os_version, development);
}

std::optional<cloud_transport>
make_http_transport(asio::io_context& io, std::string_view api_endpoint,
                    std::string user_agent, std::string* why,
                    const http::env_lookup& env,
                    std::chrono::milliseconds idle_timeout) {
  auto base = api_base(api_endpoint);
  if (!base) {
    if (why != nullptr)
      *why = "not an http(s) URL";
    return std::nullopt;
  }
  auto ep = http::parse_endpoint(*base, why);
  if (!ep)
    return std::nullopt;
  http::client_options opts;
  opts.user_agent = std::move(user_agent);
  opts.max_idle_connections = 2;
  opts.idle_timeout = idle_timeout;
  opts.proxy = http::proxy_for(*ep, env); // https_proxy, …
  auto client = http::client::make(io, *ep, opts);
  return cloud_transport{
    [&io, client](cloud_request req, std::function<void(cloud_reply)> done) {
      http::request r;
      r.method = std::move(req.method);
      r.target = std::move(req.target);
      r.headers = std::move(req.headers);
      r.body = std::move(req.body);
      r.timeout = req.timeout;
      // cloud_sync spaces and counts its own attempts (a report at most
      // every 10 s, polls at least 1 s apart): a request the cloud may have
      // read before closing is a failed attempt, not one to send again.
      r.resend_on_stale = false;
      asio::post(io, [client, r = std::move(r), done = std::move(done)] {
        client->send(r, [done](http::result<http::response> res) {
          cloud_reply out;
          if (!res) {
            out.error = res.err->message;
          } else {
            out.status = res.value.status;
            out.etag = std::string(res.value.header("ETag"));
            out.retry_after = std::string(res.value.header("Retry-After"));
            out.body = std::move(res.value.body);
          }
          done(std::move(out));
        });
      });
    }};
}

} // namespace bosun
