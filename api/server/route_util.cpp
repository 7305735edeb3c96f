#include "api/server/route_util.hpp"

#include <restinio/uri_helpers.hpp>

namespace bosun {

std::optional<std::string> request_key(const restinio::request_handle_t& req) {
  auto apikey = query_param(req, "apikey");
  auto authorization
    = req->header().get_field_or(restinio::http_field::authorization, "");
  return auth::request_key(apikey, authorization);
}

std::optional<api::fields> body_fields(const restinio::request_handle_t& req) {
  auto type
    = req->header().get_field_or(restinio::http_field::content_type, "");
  auto decoded = api::decode_fields(req->body(), type);
  if (auto* why = std::get_if<std::string>(&decoded)) {
    reply_failed(req, restinio::status_bad_request(), *why);
    return std::nullopt;
  }
  return std::get<api::fields>(std::move(decoded));
}

std::optional<std::string> query_param(const restinio::request_handle_t& req,
                                       const char* name) {
  auto q = restinio::try_parse_query<
    restinio::parse_query_traits::javascript_compatible>(req->header().query());
  if (!q || !q->has(name))
    return std::nullopt;
  auto v = q->get_param(name);
  if (!v)
    return std::nullopt;
  return std::string(v->data(), v->size());
}

std::string error_message(caf::event_based_actor* self, const caf::error& e) {
  const auto& ctx = e.context();
  if (ctx.match_elements<std::string>())
    return ctx.get_as<std::string>(0);
  return self->system().render(e);
}

void reply_action_error(caf::event_based_actor* self,
                        const restinio::request_handle_t& req,
                        const caf::error& e) {
  if (e == apps_errc::updates_locked)
    return reply_failed(req, restinio::status_locked(), error_message(self, e));
  reply_failed(req, restinio::status_service_unavailable(),
               error_message(self, e));
}

} // namespace bosun
