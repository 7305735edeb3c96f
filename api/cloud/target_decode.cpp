// Target documents (v3, local v2, bosun's persisted form) → target_state.
// Over 600 lines: one validator per document level (target, app, release,
// service, volume, network), each with the JSON path of its errors.
#include "api/cloud/compose_parse.hpp"
#include "api/cloud/detail.hpp"
#include "api/cloud/target_codec.hpp"

#include <algorithm>

namespace bosun::cloud {

namespace {

using namespace detail;

constexpr const char* name_rule = "must match ^[a-zA-Z0-9][a-zA-Z0-9_.-]*$";

// Which document is being decoded: decides key spellings and config rules.
enum class shape { v3, local, persisted };

// ------------------------------------------------------------- device --

std::string device_name(const json& v, const std::string& path) {
  auto name = expect_string(v, path);
  size_t chars = 0;
  for (unsigned char c : name)
    if ((c & 0xC0) != 0x80)
      ++chars;
  if (chars > 255 || name.find('\n') != std::string::npos)
    fail(path, "must be at most 255 characters without newlines");
  return name;
}

bool kept_config_key(const std::string& k) {
  return k.rfind("SUPERVISOR_", 0) == 0 || k.rfind("HOST_", 0) == 0
         || k == "OVERRIDE_LOCK";
}

// {VAR: string}; with `filter`, BALENA_/RESIN_ are stripped (BALENA_ wins,
// then RESIN_, then the unprefixed key) and only the supervisor's own keys
// are kept.
std::map<std::string, std::string>
config(const json& v, const std::string& path, bool filter) {
  expect_object(v, path);
  std::map<std::string, std::string> plain, resin, balena;
  for (const auto& m : v.GetObject()) {
    auto k = std::string(view(m.name));
    if (!is_config_name(k))
      fail(child(path, k, true),
           "config var name must match ^[A-Za-z_][A-Za-z0-9_:]*$");
    auto value = expect_string(m.value, child(path, k));
    if (filter && k.rfind("BALENA_", 0) == 0)
      balena[k.substr(7)] = value;
    else if (filter && k.rfind("RESIN_", 0) == 0)
      resin[k.substr(6)] = value;
    else
      plain[k] = value;
  }
  if (!filter)
    return plain;
  for (auto& [k, val] : resin)
    plain[k] = val;
  for (auto& [k, val] : balena)
    plain[k] = val;
  std::map<std::string, std::string> out;
  for (auto& [k, val] : plain)
    if (kept_config_key(k))
      out.emplace(k, val);
  return out;
}

// ---------------------------------------------------- volumes, networks --

target_volume volume(const std::string& name, const json& v,
                     const std::string& path, context& ctx) {
  target_volume vol;
  vol.name = name;
  if (v.IsNull())
    return vol;
  expect_object(v, path);
  for (const auto& m : v.GetObject()) {
    auto key = camel_to_snake(view(m.name));
    auto p = child(path, view(m.name));
    if (key == "driver")
      vol.driver = expect_string(m.value, p);
    else if (key == "driver_opts")
      vol.driver_opts = expect_string_map(m.value, p);
    else if (key == "labels")
      decode_labels(vol.labels, m.value, p);
    else
      ctx.warn(p, "unsupported volume key, ignored");
  }
  return vol;
}

ipam_pool pool(const json& v, const std::string& path, context& ctx) {
  expect_object(v, path);
  ipam_pool p;
  for (const auto& m : v.GetObject()) {
    auto key = camel_to_snake(view(m.name));
    auto kp = child(path, view(m.name));
    if (key == "subnet")
      p.subnet = expect_string(m.value, kp);
    else if (key == "gateway")
      p.gateway = expect_string(m.value, kp);
    else if (key == "ip_range")
      p.ip_range = expect_string(m.value, kp);
    else if (key == "aux_addresses")
      p.aux_addresses = expect_string_map(m.value, kp);
    else
      ctx.warn(kp, "unsupported ipam config key, ignored");
  }
  return p;
}

target_network network(const std::string& name, const json& v,
                       const std::string& path, context& ctx) {
  target_network net;
  net.name = name;
  if (v.IsNull())
    return net;
  expect_object(v, path);
  for (const auto& m : v.GetObject()) {
    auto key = camel_to_snake(view(m.name));
    auto p = child(path, view(m.name));
    if (key == "driver") {
      net.driver = expect_string(m.value, p);
    } else if (key == "driver_opts") {
      net.driver_opts = expect_string_map(m.value, p);
    } else if (key == "ipam") {
      expect_object(m.value, p);
      for (const auto& i : m.value.GetObject()) {
        auto ik = camel_to_snake(view(i.name));
        auto ip = child(p, view(i.name));
        if (ik == "driver") {
          net.ipam.driver = expect_string(i.value, ip);
        } else if (ik == "config") {
          expect_array(i.value, ip);
          size_t n = 0;
          for (const auto& c : i.value.GetArray())
            net.ipam.config.push_back(pool(c, item(ip, n++), ctx));
        } else if (ik == "options") {
          net.ipam.options = expect_string_map(i.value, ip);
        } else {
          ctx.warn(ip, "unsupported ipam key, ignored");
        }
      }
    } else if (key == "enable_ipv6") {
      net.enable_ipv6 = expect_bool(m.value, p);
    } else if (key == "internal") {
      net.internal = expect_bool(m.value, p);
    } else if (key == "labels") {
      decode_labels(net.labels, m.value, p);
    } else if (key == "config_only") {
      net.config_only = expect_bool(m.value, p);
    } else {
      ctx.warn(p, "unsupported network key, ignored");
    }
  }
  return net;
}

template <class T>
void sort_unique(std::vector<T>& xs, const std::string& path,
                 const char* what) {
  std::stable_sort(xs.begin(), xs.end(),
                   [](const T& a, const T& b) { return a.name < b.name; });
  for (size_t i = 1; i < xs.size(); ++i)
    if (xs[i].name == xs[i - 1].name)
      fail(child(path, xs[i].name), std::string("duplicate ") + what);
}

// Volumes and networks of a release, and the names services may refer to.
void release_objects(target_app& app, const json& release,
                     const std::string& path, release_names& names,
                     context& ctx) {
  if (const json* vols = find(release, "volumes")) {
    auto p = child(path, "volumes");
    expect_object(*vols, p);
    for (const auto& m : vols->GetObject()) {
      auto name = std::string(view(m.name));
      if (!is_object_name(name))
        fail(child(p, name, true), std::string("volume name ") + name_rule);
      app.volumes.push_back(volume(name, m.value, child(p, name), ctx));
      names.volumes.insert(name);
    }
    sort_unique(app.volumes, p, "volume name");
  }
  if (const json* nets = find(release, "networks")) {
    auto p = child(path, "networks");
    expect_object(*nets, p);
    for (const auto& m : nets->GetObject()) {
      auto name = std::string(view(m.name));
      if (!is_object_name(name))
        fail(child(p, name, true), std::string("network name ") + name_rule);
      app.networks.push_back(network(name, m.value, child(p, name), ctx));
      names.networks.insert(name);
    }
    sort_unique(app.networks, p, "network name");
  }
}

// ----------------------------------------------------------- services --

void check_service_name(const std::string& name, const std::string& path) {
  if (!is_object_name(name))
    fail(path, std::string("service name ") + name_rule);
}

std::optional<std::string> contract(const json& v, const std::string& path) {
  if (v.IsNull())
    return std::nullopt;
  expect_object(v, path);
  return compact_json(v);
}

std::string image(const json& v, const std::string& path) {
  auto s = expect_string(v, path);
  if (s.empty())
    fail(path, "image must not be empty");
  return s;
}

void compose_key(service_config& cfg, std::string_view raw_key,
                 const json& value, const std::string& path,
                 const release_names& names, context& ctx) {
  auto key = camel_to_snake(raw_key);
  if (!decode_compose_key(cfg, key, value, path, names, ctx))
    ctx.warn(path, "unsupported compose key, ignored");
}

// v3 (and persisted): {id, image_id, image, environment, labels, running,
// contract, composition}.
target_service v3_service(const std::string& name, const json& v,
                          const std::string& path, const release_names& names,
                          context& ctx) {
  expect_object(v, path);
  target_service s;
  s.name = name;
  const json* id = find(v, "id");
  const json* image_id = find(v, "image_id");
  const json* img = find(v, "image");
  if (!id)
    fail(child(path, "id"), "missing");
  if (!image_id)
    fail(child(path, "image_id"), "missing");
  if (!img)
    fail(child(path, "image"), "missing");
  s.service_id = expect_id(*id, child(path, "id"));
  s.image_id = expect_id(*image_id, child(path, "image_id"));
  s.image = image(*img, child(path, "image"));
  // The composition first: top-level environment and labels override it.
  if (const json* comp = find(v, "composition")) {
    auto cp = child(path, "composition");
    if (!comp->IsNull()) {
      expect_object(*comp, cp);
      for (const auto& m : comp->GetObject()) {
        auto key = view(m.name);
        if (key == "image")
          continue; // the service's own image wins
        compose_key(s.config, key, m.value, child(cp, key), names, ctx);
      }
    }
  }
  for (const auto& m : v.GetObject()) {
    auto key = view(m.name);
    auto p = child(path, key);
    if (key == "environment")
      decode_environment(s.config.environment, m.value, p, ctx);
    else if (key == "labels")
      decode_labels(s.config.labels, m.value, p);
    else if (key == "running")
      s.running = expect_bool(m.value, p);
    else if (key == "contract")
      s.contract = contract(m.value, p);
    else if (key != "id" && key != "image_id" && key != "image"
             && key != "composition")
      ctx.warn(p, "unknown service key, ignored");
  }
  return s;
}

// local v2: {serviceName, imageId, serviceId?, image, environment, labels,
// running, contract, <compose keys>}.
target_service local_service(std::string_view key, const json& v,
                             const std::string& path,
                             const release_names& names, context& ctx) {
  target_service s;
  const json* sname = find(v, "serviceName");
  const json* image_id = find(v, "imageId");
  const json* img = find(v, "image");
  if (!sname)
    fail(child(path, "serviceName"), "missing");
  if (!image_id)
    fail(child(path, "imageId"), "missing");
  if (!img)
    fail(child(path, "image"), "missing");
  s.name = expect_string(*sname, child(path, "serviceName"));
  check_service_name(s.name, child(path, "serviceName"));
  s.image_id = expect_id(*image_id, child(path, "imageId"));
  s.image = image(*img, child(path, "image"));
  if (const json* sid = find(v, "serviceId")) {
    s.service_id = expect_id(*sid, child(path, "serviceId"));
  } else {
    rapidjson::Value k(key.data(),
                       static_cast<rapidjson::SizeType>(key.size()));
    s.service_id = expect_id(k, path);
  }
  // Compose keys first, then the lifted environment / labels over them.
  for (const auto& m : v.GetObject()) {
    auto k = view(m.name);
    auto p = child(path, k);
    if (k == "serviceName" || k == "imageId" || k == "serviceId" || k == "image"
        || k == "environment" || k == "labels" || k == "appId"
        || k == "releaseId" || k == "commit")
      continue;
    if (k == "running")
      s.running = expect_bool(m.value, p);
    else if (k == "contract")
      s.contract = contract(m.value, p);
    else
      compose_key(s.config, k, m.value, p, names, ctx);
  }
  if (const json* env = find(v, "environment"))
    decode_environment(s.config.environment, *env, child(path, "environment"),
                       ctx);
  if (const json* labels = find(v, "labels"))
    decode_labels(s.config.labels, *labels, child(path, "labels"));
  return s;
}

// ---------------------------------------------------------------- apps --

app_class klass(const json& v, const std::string& path) {
  auto c = expect_string(v, path);
  if (c == "fleet")
    return app_class::fleet;
  if (c == "app")
    return app_class::app;
  if (c == "block")
    return app_class::block;
  fail(path, "class must be fleet, app or block");
}

// A v3 app (also the persisted form).
target_app v3_app(const std::string& uuid, const json& v,
                  const std::string& path, context& ctx) {
  expect_object(v, path);
  target_app app;
  app.uuid = uuid;
  const json* id = find(v, "id");
  const json* name = find(v, "name");
  if (!id)
    fail(child(path, "id"), "missing");
  if (!name)
    fail(child(path, "name"), "missing");
  app.app_id = expect_id(*id, child(path, "id"));
  app.name = expect_string(*name, child(path, "name"));
  const json* releases = nullptr;
  for (const auto& m : v.GetObject()) {
    auto key = view(m.name);
    auto p = child(path, key);
    if (key == "class")
      app.klass = klass(m.value, p);
    else if (key == "is_host")
      app.is_host = expect_bool(m.value, p);
    else if (key == "parent_app")
      app.parent_app = m.value.IsNull()
                         ? std::nullopt
                         : std::optional(expect_string(m.value, p));
    else if (key == "releases")
      releases = &m.value;
    else if (key != "id" && key != "name")
      ctx.warn(p, "unknown app key, ignored");
  }
  if (!releases)
    return app;
  auto rp = child(path, "releases");
  expect_object(*releases, rp);
  if (releases->MemberCount() == 0)
    return app;
  bool first = true;
  for (const auto& rel : releases->GetObject()) {
    auto commit = std::string(view(rel.name));
    if (!first) {
      ctx.warn(child(rp, commit), "only the first release is used, ignored");
      continue;
    }
    first = false;
    auto p = child(rp, commit);
    if (!is_object_name(commit))
      fail(child(rp, commit, true), std::string("commit ") + name_rule);
    expect_object(rel.value, p);
    const json* rid = find(rel.value, "id");
    if (!rid)
      fail(child(p, "id"), "missing");
    app.commit = commit;
    app.release_id = expect_id(*rid, child(p, "id"));
    release_names names;
    release_objects(app, rel.value, p, names, ctx);
    const json* services = find(rel.value, "services");
    if (services) {
      auto sp = child(p, "services");
      expect_object(*services, sp);
      for (const auto& m : services->GetObject())
        names.services.insert(std::string(view(m.name)));
      for (const auto& m : services->GetObject()) {
        auto sname = std::string(view(m.name));
        check_service_name(sname, child(sp, sname, true));
        app.services.push_back(
          v3_service(sname, m.value, child(sp, sname), names, ctx));
      }
      sort_unique(app.services, sp, "service name");
    }
    for (const auto& m : rel.value.GetObject()) {
      auto key = view(m.name);
      if (key != "id" && key != "services" && key != "volumes"
          && key != "networks")
        ctx.warn(child(p, key), "unknown release key, ignored");
    }
  }
  return app;
}

target_app local_app(std::string_view key, const json& v,
                     const std::string& path, context& ctx) {
  expect_object(v, path);
  target_app app;
  {
    rapidjson::Value k(key.data(),
                       static_cast<rapidjson::SizeType>(key.size()));
    if (key.empty()
        || key.find_first_not_of("0123456789") != std::string_view::npos)
      fail(path, "app key must be the numeric appId");
    app.app_id = expect_id(k, path);
  }
  app.uuid = std::to_string(app.app_id);
  const json* name = find(v, "name");
  const json* commit = find(v, "commit");
  const json* rid = find(v, "releaseId");
  if (!name)
    fail(child(path, "name"), "missing");
  if (!commit)
    fail(child(path, "commit"), "missing");
  if (!rid)
    fail(child(path, "releaseId"), "missing");
  app.name = expect_string(*name, child(path, "name"));
  app.commit = expect_string(*commit, child(path, "commit"));
  if (!is_object_name(app.commit))
    fail(child(path, "commit"), std::string("commit ") + name_rule);
  app.release_id = expect_id(*rid, child(path, "releaseId"));
  release_names names;
  release_objects(app, v, path, names, ctx);
  // A map keyed by serviceId (what the balena CLI posts), or a list (what
  // GET answers), each item then naming its serviceId.
  if (const json* services = find(v, "services")) {
    auto sp = child(path, "services");
    auto note_name = [&names](const json& s) {
      if (s.IsObject())
        if (const json* n = find(s, "serviceName"); n && n->IsString())
          names.services.insert(std::string(view(*n)));
    };
    if (services->IsArray()) {
      for (const auto& s : services->GetArray())
        note_name(s);
      size_t i = 0;
      for (const auto& s : services->GetArray()) {
        auto p = item(sp, i++);
        expect_object(s, p);
        if (!find(s, "serviceId"))
          fail(child(p, "serviceId"), "missing");
        app.services.push_back(local_service({}, s, p, names, ctx));
      }
    } else {
      if (!services->IsObject())
        fail(sp, "expected an object keyed by serviceId or a list");
      for (const auto& m : services->GetObject())
        note_name(m.value);
      for (const auto& m : services->GetObject()) {
        auto p = child(sp, view(m.name));
        expect_object(m.value, p);
        app.services.push_back(
          local_service(view(m.name), m.value, p, names, ctx));
      }
    }
    sort_unique(app.services, sp, "service name");
  }
  for (const auto& m : v.GetObject()) {
    auto k = view(m.name);
    if (k != "name" && k != "commit" && k != "releaseId" && k != "services"
        && k != "volumes" && k != "networks" && k != "appId")
      ctx.warn(child(path, k), "unknown app key, ignored");
  }
  return app;
}

void sort_apps(std::vector<target_app>& apps, const std::string& path) {
  std::stable_sort(apps.begin(), apps.end(), [](const auto& a, const auto& b) {
    return a.uuid < b.uuid;
  });
  for (size_t i = 1; i < apps.size(); ++i)
    if (apps[i].uuid == apps[i - 1].uuid)
      fail(child(path, apps[i].uuid), "duplicate app");
}

// The body under the device uuid (v3) or the persisted document's root.
void device_body(target_state& t, const json& dev, const std::string& base,
                 bool filter_config, context& ctx) {
  expect_object(dev, base);
  const json* name = find(dev, "name");
  const json* conf = find(dev, "config");
  const json* apps = find(dev, "apps");
  if (!name)
    fail(child(base, "name"), "missing");
  if (!conf)
    fail(child(base, "config"), "missing");
  if (!apps)
    fail(child(base, "apps"), "missing");
  t.device_name = device_name(*name, child(base, "name"));
  t.config = config(*conf, child(base, "config"), filter_config);
  auto ap = child(base, "apps");
  expect_object(*apps, ap);
  for (const auto& m : apps->GetObject()) {
    auto uuid = std::string(view(m.name));
    if (!is_object_name(uuid))
      fail(child(ap, uuid, true), std::string("app uuid ") + name_rule);
    t.apps.push_back(v3_app(uuid, m.value, child(ap, uuid), ctx));
  }
  sort_apps(t.apps, ap);
}

template <class F>
target_result run(F&& f) {
  target_result r;
  try {
    decoded_target out;
    context ctx;
    f(out.target, ctx);
    out.warnings = std::move(ctx.warnings);
    r.value = std::move(out);
  } catch (const failure& e) {
    r.error = decode_error{e.path, e.rule};
  } catch (const std::bad_alloc&) {
    r.error = decode_error{"", "out of memory"};
  }
  return r;
}

} // namespace

target_result decode_target_v3(std::string_view text, target_source source,
                               std::string_view expected_uuid) {
  return run([&](target_state& t, context& ctx) {
    rapidjson::Document doc;
    parse_document(doc, text);
    expect_object(doc, "");
    const json* dev = nullptr;
    if (!expected_uuid.empty()) {
      dev = find(doc, expected_uuid);
      if (!dev)
        fail("", "missing device uuid " + std::string(expected_uuid));
      t.device_uuid = std::string(expected_uuid);
    } else {
      if (doc.MemberCount() == 0)
        fail("", "missing device uuid");
      if (doc.MemberCount() > 1)
        fail("", "expected exactly one device uuid");
      t.device_uuid = std::string(view(doc.MemberBegin()->name));
      dev = &doc.MemberBegin()->value;
    }
    if (!is_object_name(t.device_uuid))
      fail("", std::string("device uuid ") + name_rule);
    t.source = source;
    device_body(t, *dev, "", true, ctx);
  });
}

target_result decode_local_target(std::string_view text) {
  return run([&](target_state& t, context& ctx) {
    rapidjson::Document doc;
    parse_document(doc, text);
    expect_object(doc, "");
    const json* local = find(doc, "local");
    if (!local)
      if (const json* state = find(doc, "state"); state && state->IsObject())
        local = find(*state, "local");
    if (!local)
      fail("local", "missing");
    std::string base = "local";
    expect_object(*local, base);
    t.source = target_source::local;
    for (const auto& m : local->GetObject()) {
      auto key = view(m.name);
      auto p = child(base, key);
      if (key == "name") {
        t.device_name = device_name(m.value, p);
      } else if (key == "config") {
        t.config = config(m.value, p, true);
      } else if (key == "apps") {
        expect_object(m.value, p);
        for (const auto& a : m.value.GetObject())
          t.apps.push_back(
            local_app(view(a.name), a.value, child(p, view(a.name)), ctx));
        sort_apps(t.apps, p);
      } else {
        ctx.warn(p, "unknown key, ignored");
      }
    }
  });
}

target_result decode_target_json(std::string_view text) {
  return run([&](target_state& t, context& ctx) {
    rapidjson::Document doc;
    parse_document(doc, text);
    expect_object(doc, "");
    const json* format = find(doc, "format");
    if (!format || !format->IsInt() || format->GetInt() != 1)
      fail("format", "expected 1");
    const json* source = find(doc, "source");
    if (!source)
      fail("source", "missing");
    auto s = expect_string(*source, "source");
    if (s == "cloud")
      t.source = target_source::cloud;
    else if (s == "local")
      t.source = target_source::local;
    else
      fail("source", "expected cloud or local");
    const json* uuid = find(doc, "uuid");
    if (!uuid)
      fail("uuid", "missing");
    t.device_uuid = expect_string(*uuid, "uuid");
    device_body(t, doc, "", false, ctx);
  });
}

} // namespace bosun::cloud
