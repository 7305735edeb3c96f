// The helpers the app_manager's parts share (app_state.hpp): rendering
// errors, telling system lines, the spec context, persisting bookkeeping,
// and the fan-in of asynchronous work.
#include "actors/apps/app_state.hpp"
#include "actors/apps/chaos_hook.hpp"

#include <algorithm>

namespace bosun::appmgr {

namespace {

bool truthy(const std::map<std::string, std::string>& cfg,
            const std::string& key) {
  auto it = cfg.find(key);
  return it != cfg.end() && apps::is_truthy(it->second);
}

} // namespace

namespace {

constexpr auto view_max_age = std::chrono::milliseconds(250);

} // namespace

void view_changed(self_ptr self) {
  auto& st = self->state;
  st.view.reset();
  if (st.listeners.empty() || st.notify_scheduled)
    return;
  // Never within the message that changed it (more may change before it
  // ends), and at most one per notify_interval: the changes meanwhile go
  // out together, the last one included.
  st.notify_scheduled = true;
  auto now = self->clock().now();
  auto due = st.notified_at ? *st.notified_at + st.opts.notify_interval : now;
  if (due <= now)
    return self->send(self, apps_notify_due{});
  self->delayed_send(self,
                     std::chrono::ceil<std::chrono::milliseconds>(due - now),
                     apps_notify_due{});
}

std::shared_ptr<const apps_view> cached_view(self_ptr self) {
  auto& st = self->state;
  auto now = self->clock().now();
  if (!st.view || now - st.view_at >= view_max_age) {
    st.view = std::make_shared<const apps_view>(make_view(self, false));
    st.view_at = now;
  }
  return st.view;
}

void on_notify_due(self_ptr self) {
  auto& st = self->state;
  st.notify_scheduled = false;
  if (st.listeners.empty())
    return;
  auto v = cached_view(self);
  if (st.sent && *st.sent == *v)
    return; // changed and changed back, or nothing the view shows
  st.sent = v;
  st.notified_at = self->clock().now();
  for (auto& l : st.listeners) {
    ++st.status.views_sent;
    self->send(l, apps_view_changed{*v});
  }
}

void on_subscribe(self_ptr self, apps_subscribe& s) {
  auto& st = self->state;
  if (!s.listener)
    return;
  auto& ls = st.listeners;
  auto same = [&](const apps_listener_actor& l) {
    return l.address() == s.listener.address();
  };
  if (std::none_of(ls.begin(), ls.end(), same)) {
    self->monitor(s.listener);
    ls.push_back(s.listener);
  }
  ++st.status.views_sent;
  self->send(s.listener, apps_view_changed{*cached_view(self)});
}

void on_listener_down(self_ptr self, const caf::down_msg& dm) {
  auto& ls = self->state.listeners;
  ls.erase(std::remove_if(ls.begin(), ls.end(),
                          [&](const apps_listener_actor& l) {
                            return l.address() == dm.source;
                          }),
           ls.end());
}

std::string key_of(const std::string& uuid, const std::string& service) {
  return uuid + "/" + service;
}

const logger& log_of(self_ptr self) {
  return *self->state.opts.log;
}

std::string render(self_ptr self, const caf::error& e) {
  if (e.category() == caf::atom("engine"))
    return render_engine_error(e);
  if (e.category() == caf::atom("images"))
    return images_error_message(e);
  if (e.category() == caf::atom("volumes"))
    return volumes_error_message(e);
  return self->system().render(e);
}

void tell(self_ptr self, system_log line) {
  apps::send_line(self->state.deps.logs, std::move(line));
}

void tell(self_ptr self, const char* what, const std::string& object,
          const std::string& error) {
  tell(self, system_event(what, object, error));
}

std::string container_object(self_ptr self, const std::string& id) {
  for (auto& c : self->state.snap().containers)
    if (c.id == id) {
      auto who = apps::service_from_container(c);
      return apps::service_object(who ? who->service_name : "", c.config.image);
    }
  return {};
}

bool lock_override(self_ptr self) {
  auto& st = self->state;
  return st.target
         && (truthy(st.target->config, "SUPERVISOR_OVERRIDE_LOCK")
             || truthy(st.target->config, "OVERRIDE_LOCK"));
}

apps::spec_context spec_base(self_ptr self) {
  auto& st = self->state;
  auto ctx = st.opts.spec;
  ctx.lock_dir_base = st.opts.engine_lock_dir_base.empty()
                        ? st.opts.lock_dir_base
                        : st.opts.engine_lock_dir_base;
  ctx.scoped_api_keys = st.scoped_keys;
  if (st.target && !st.target->device_name.empty())
    ctx.device_name = st.target->device_name;
  return ctx;
}

void request_pass(self_ptr self) {
  self->send(self, pass_atom_v);
}

void persist_kv(self_ptr self, const std::string& key,
                const std::string& value) {
  chaos::reached("db", chaos::phase::before);
  self
    ->request(self->state.deps.db, engine_timeout, caf::put_atom_v,
              config_kv_atom_v, key, value)
    .then([] { chaos::reached("db", chaos::phase::after); },
          [self, key](const caf::error& e) {
            log_of(self).error("apps", "cannot store {}: {}", key,
                               render(self, e));
          });
}

void check_contradiction(self_ptr self, const caf::error& e) {
  if (e != engine_errc::not_found && e != engine_errc::conflict)
    return;
  log_of(self).info("apps",
                    "the engine contradicts the view ({}); reading "
                    "it again",
                    render(self, e));
  self->state.engine.invalidate();
}

fan_in_ptr make_fan_in(std::function<void(std::vector<std::string>)> finish) {
  auto f = std::make_shared<fan_in>();
  f->finish = std::move(finish);
  return f;
}

std::string join(const std::vector<std::string>& xs) {
  std::string out;
  for (auto& x : xs)
    out += (out.empty() ? "" : "; ") + x;
  return out;
}

} // namespace bosun::appmgr
