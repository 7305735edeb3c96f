// Reading the engine into the app_manager's engine view: everything once
// (and after a reconnect or a contradiction), else only what changed.
#include "actors/apps/app_state.hpp"

namespace bosun::appmgr {

namespace {

std::set<std::string> target_images(const std::optional<target_state>& t) {
  std::set<std::string> out;
  if (t)
    for (auto& app : t->apps)
      for (auto& svc : app.services)
        out.insert(svc.image);
  return out;
}

// Reads into `into`; `put` files each answer, `fan` counts them.
struct reader {
  self_ptr self;
  fan_in_ptr fan;
  engine_actor engine;

  template <class Put>
  void container(const std::string& id, Put put) const {
    fan->add();
    self->request(engine, engine_timeout, container_inspect_req{id})
      .then(
        [fan = fan, put](container_inspect& ci) mutable {
          put(std::move(ci));
          fan->done();
        },
        [self = self, fan = fan, id](const caf::error& e) {
          // Removed meanwhile: not there any more.
          if (e == engine_errc::not_found) {
            self->state.engine.container_gone(id);
            return fan->done();
          }
          fan->done(render(self, e));
        });
  }

  template <class Put>
  void networks(Put put) const {
    fan->add();
    self->request(engine, engine_timeout, network_list_req{})
      .then(
        [fan = fan, put](network_infos& ns) mutable {
          put(std::move(ns));
          fan->done();
        },
        [self = self, fan = fan](const caf::error& e) {
          fan->done(render(self, e));
        });
  }

  template <class Put>
  void volumes(Put put) const {
    fan->add();
    self->request(engine, engine_timeout, volume_list_req{})
      .then(
        [fan = fan, put](volume_list& vs) mutable {
          put(std::move(vs.volumes));
          fan->done();
        },
        [self = self, fan = fan](const caf::error& e) {
          fan->done(render(self, e));
        });
  }

  template <class Put>
  void image(const std::string& ref, Put put) const {
    fan->add();
    self->request(engine, engine_timeout, image_inspect_req{ref})
      .then(
        [fan = fan, put, ref](image_inspect& ii) mutable {
          put(ref, std::move(ii));
          fan->done();
        },
        [self = self, fan = fan, put, ref](const caf::error& e) mutable {
          if (e == engine_errc::not_found) {
            put(ref, std::nullopt); // not present (yet)
            return fan->done();
          }
          fan->done(render(self, e));
        });
  }
};

void read_all(self_ptr self, const std::set<std::string>& images,
              const fan_in_ptr& fan) {
  // Read into a fresh snapshot: the view is replaced only by a complete one.
  auto fresh = std::make_shared<engine_snapshot>();
  auto absent = std::make_shared<std::set<std::string>>();
  auto outer = fan;
  outer->add();
  auto inner
    = make_fan_in([self, fresh, absent, outer](std::vector<std::string> errs) {
        if (errs.empty())
          self->state.engine.replace(std::move(*fresh), std::move(*absent));
        for (auto& e : errs)
          outer->errors.push_back(std::move(e));
        outer->done();
      });
  reader r{self, inner, self->state.deps.engine};
  inner->add();
  container_list_req list;
  list.all = true;
  list.filters["label"] = {"io.balena.supervised"};
  self->request(r.engine, engine_timeout, list)
    .then(
      [r, fresh](const container_list& cs) {
        for (auto& c : cs)
          r.container(c.id, [fresh](container_inspect ci) {
            fresh->containers.push_back(std::move(ci));
          });
        r.fan->done();
      },
      [self, r](const caf::error& e) { r.fan->done(render(self, e)); });
  r.networks([fresh](network_infos ns) { fresh->networks = std::move(ns); });
  r.volumes(
    [fresh](std::vector<volume_info> vs) { fresh->volumes = std::move(vs); });
  for (auto& ref : images)
    r.image(ref, [fresh, absent](const std::string& ref,
                                 std::optional<image_inspect> ii) {
      if (ii)
        fresh->images.emplace(ref, std::move(*ii));
      else
        absent->insert(ref);
    });
  inner->seal();
}

void read_changes(self_ptr self, const view_reads& reads,
                  const fan_in_ptr& outer) {
  // A failed read keeps its marks: the next pass reads them again.
  outer->add();
  auto fan = make_fan_in([self, reads, outer](std::vector<std::string> errs) {
    auto& view = self->state.engine;
    if (!errs.empty()) {
      for (auto& id : reads.containers)
        view.container_changed(id);
      if (reads.networks)
        view.networks_changed();
      if (reads.volumes)
        view.volumes_changed();
      for (auto& ref : reads.images)
        view.image_changed(ref);
    }
    for (auto& e : errs)
      outer->errors.push_back(std::move(e));
    outer->done();
  });
  reader r{self, fan, self->state.deps.engine};
  for (auto& id : reads.containers)
    r.container(id, [self](container_inspect ci) {
      self->state.engine.put_container(std::move(ci));
    });
  if (reads.networks)
    r.networks([self](network_infos ns) {
      self->state.engine.put_networks(std::move(ns));
    });
  if (reads.volumes)
    r.volumes([self](std::vector<volume_info> vs) {
      self->state.engine.put_volumes(std::move(vs));
    });
  for (auto& ref : reads.images)
    r.image(ref,
            [self](const std::string& ref, std::optional<image_inspect> ii) {
              self->state.engine.put_image(ref, std::move(ii));
            });
  fan->seal();
}

// The app-scoped keys of supervisor-api services, made on first use.
void read_scoped_keys(self_ptr self, const fan_in_ptr& fan) {
  auto& st = self->state;
  scoped_keys_request keys;
  if (st.target)
    for (auto& app : st.target->apps)
      for (auto& svc : app.services) {
        auto labels = apps::normalize_labels(svc.config.labels);
        auto f = labels.find("io.balena.features.supervisor-api");
        if (f != labels.end() && apps::is_truthy(f->second))
          keys.services.emplace_back(app.app_id, svc.name);
      }
  if (keys.services.empty() || !st.deps.api_keys)
    return;
  fan->add();
  self->request(st.deps.api_keys, engine_timeout, keys)
    .then(
      [self, fan](scoped_keys& k) {
        self->state.scoped_keys = std::move(k.keys);
        fan->done();
      },
      [self, fan](const caf::error& e) {
        fan->done("API keys: " + render(self, e));
      });
}

} // namespace

void refresh_view(self_ptr self,
                  const std::function<void(std::vector<std::string>)>& k) {
  auto& st = self->state;
  auto images = target_images(st.target);
  auto reads = st.engine.next_reads(images);
  auto fan = make_fan_in([self, k](std::vector<std::string> errs) {
    view_changed(self);
    // A download that ended while this read ran: read its image too, or
    // the pass would plan to fetch it again.
    if (errs.empty() && self->state.engine.images_pending())
      return refresh_view(self, k);
    k(std::move(errs));
  });
  if (reads.full) {
    log_of(self).debug("apps", "reading the engine in full");
    read_all(self, images, fan);
  } else {
    read_changes(self, reads, fan);
  }
  read_scoped_keys(self, fan);
  fan->seal();
}

} // namespace bosun::appmgr
