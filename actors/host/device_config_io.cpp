#include "actors/host/device_config_io.hpp"

#include "actors/cloud/config_writer.hpp"

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sys/stat.h>

namespace bosun {

namespace {

namespace fs = std::filesystem;

struct device_config_io_state {
  static inline const char* name = "device_config_io";
  device_config_paths paths;
};

using self_ptr
  = device_config_io_actor::stateful_pointer<device_config_io_state>;

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return std::nullopt;
  return std::string(std::istreambuf_iterator<char>(in),
                     std::istreambuf_iterator<char>());
}

// The step's visitor: each alternative is one kind of write.
struct step_runner {
  const device_config_paths& paths;

  boot_step_outcome operator()(const breadcrumb_touch&) const {
    const auto& path = paths.breadcrumb;
    std::error_code ec;
    fs::create_directories(fs::path(path).parent_path(), ec);
    std::ofstream(path, std::ios::app).close();
    fs::last_write_time(path, fs::file_time_type::clock::now(), ec);
    return {};
  }

  boot_step_outcome operator()(const config_json_rewrite& w) const {
    boot_step_outcome out;
    out.error = rewrite_config_json(w.path, w.edit);
    return out;
  }

  boot_step_outcome operator()(const boot_files_write& w) const {
    boot_step_outcome out;
    for (const auto& [rel, data] : w.files) {
      auto path = paths.boot_dir + "/" + rel;
      std::error_code ec;
      fs::create_directories(fs::path(path).parent_path(), ec);
      if ((out.error = atomic_write(path, data)))
        return out;
      out.written.push_back(rel);
    }
    return out;
  }
};

bool ends_job(const boot_write_step& s) {
  const auto* w = std::get_if<boot_files_write>(&s);
  return w != nullptr && w->ends_job;
}

device_config_io_actor::behavior_type
device_config_io_impl(self_ptr self, device_config_paths paths) {
  self->state.paths = std::move(paths);
  return {
    [self](const boot_read& r) {
      boot_contents out;
      for (const auto& f : r.files)
        out.files[f] = read_file(self->state.paths.boot_dir + "/" + f);
      return out;
    },
    [self](const boot_write& job) {
      boot_written out;
      step_runner run{self->state.paths};
      for (const auto& step : job.steps) {
        out.steps.push_back(std::visit(run, step));
        if (out.steps.back().error && ends_job(step))
          break;
      }
      return out;
    },
    [self](reboot_due_check) {
      struct stat st {};
      if (::stat(self->state.paths.breadcrumb.c_str(), &st) != 0)
        return false;
      auto uptime = self->state.paths.facts->uptime_seconds();
      if (!uptime)
        return false;
      auto boot = std::chrono::system_clock::now()
                  - std::chrono::seconds(static_cast<int64_t>(*uptime));
      return std::chrono::system_clock::from_time_t(st.st_mtime) > boot;
    },
  };
}

} // namespace

device_config_io_actor spawn_device_config_io(caf::actor_system& sys,
                                              device_config_paths paths,
                                              bool detached) {
  if (!paths.facts)
    paths.facts = real_host_provider();
  if (!detached)
    return sys.spawn(device_config_io_impl, std::move(paths));
  return sys.spawn<caf::detached>(device_config_io_impl, std::move(paths));
}

} // namespace bosun
