#include "actors/host/host_provider.hpp"

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <sys/statvfs.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <unistd.h>

namespace bosun {

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

class real_host final : public host_provider {
public:
  explicit real_host(std::string sys_class_net)
      : sys_class_net_(std::move(sys_class_net)) {}

  std::optional<std::string> os_release(const std::string& root,
                                        const std::string& key) const override {
    std::ifstream in(root + "/etc/os-release");
    std::string line;
    while (std::getline(in, line))
      if (line.rfind(key + "=", 0) == 0) {
        auto v = line.substr(key.size() + 1);
        if (v.size() >= 2 && v.front() == '"' && v.back() == '"')
          v = v.substr(1, v.size() - 2);
        return v;
      }
    return std::nullopt;
  }

  std::string machine() const override {
    utsname u{};
    return ::uname(&u) == 0 ? std::string(u.machine) : std::string{};
  }

  std::string hostname() const override {
    char host[256] = {};
    return ::gethostname(host, sizeof(host) - 1) == 0 ? std::string(host)
                                                      : std::string{};
  }

  host_addresses addresses() const override {
    return read_host_addresses(sys_class_net_);
  }

  host_metrics metrics(const std::string& data_dir) const override {
    host_metrics m;
    m.memory = parse_meminfo(read_file("/proc/meminfo"));
    m.cpu = parse_proc_stat(read_file("/proc/stat"));
    struct statvfs fs {};
    if (::statvfs(data_dir.c_str(), &fs) == 0 && fs.f_frsize > 0) {
      auto mib = [&fs](uint64_t blocks) {
        return static_cast<int64_t>(blocks * fs.f_frsize / (1024UL * 1024UL));
      };
      m.storage_total_mib = mib(fs.f_blocks);
      m.storage_used_mib = mib(fs.f_blocks - fs.f_bfree);
    }
    auto temp = read_file("/sys/class/thermal/thermal_zone0/temp");
    if (!temp.empty() && std::isdigit(static_cast<unsigned char>(temp[0])))
      m.cpu_temp = std::strtoll(temp.c_str(), nullptr, 10) / 1000;
    return m;
  }

  std::optional<double> uptime_seconds() const override {
    struct sysinfo si {};
    if (::sysinfo(&si) != 0)
      return std::nullopt;
    return static_cast<double>(si.uptime);
  }

private:
  std::string sys_class_net_;
};

} // namespace

std::shared_ptr<const host_provider>
real_host_provider(std::string sys_class_net) {
  return std::make_shared<const real_host>(std::move(sys_class_net));
}

} // namespace bosun
