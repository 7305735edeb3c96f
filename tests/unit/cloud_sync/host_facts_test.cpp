// What the report says about the host: address filtering, /proc parsers and
// metric buckets.
#include "actors/cloud/host_facts.hpp"
#include "actors/host/host_provider.hpp"

#include <doctest/doctest.h>

using namespace bosun;

TEST_SUITE("host facts") {
  TEST_CASE("balena's internal interfaces are not reported") {
    for (auto n : {"balena0", "docker0", "docker12", "rce0", "tun0",
                   "resin-vpn", "lo", "resin-dns", "supervisor0",
                   "balena-redsocks", "resin-redsocks", "br-0123456789ab"})
      CHECK_MESSAGE(interface_excluded(n), n);
    for (auto n : {"eth0", "wlan0", "enp3s0", "balena", "dockerx", "br-xyz",
                   "br-0123456789abc", "tunnel0"})
      CHECK_FALSE_MESSAGE(interface_excluded(n), n);
  }

  TEST_CASE("addresses: external IPv4 and global IPv6, in order, once") {
    std::vector<interface_address> all{
      {"lo", "127.0.0.1", false, 0, true},
      {"eth0", "192.168.1.10", false, 0, false},
      {"docker0", "172.17.0.1", false, 0, false},
      {"eth0", "fe80::1", true, 2, false},
      {"eth0", "2001:db8::10", true, 0, false},
      {"wlan0", "192.168.1.10", false, 0, false},
      {"wlan0", "10.0.0.5", false, 0, false},
    };
    CHECK(report_addresses(all) == "192.168.1.10 2001:db8::10 10.0.0.5");
    CHECK(reported_interfaces(all)
          == std::vector<std::string>{"eth0", "wlan0"});
  }

  TEST_CASE("memory use is total minus free, cached, buffers and "
            "reclaimable, in MiB") {
    auto m = parse_meminfo("MemTotal:        4096000 kB\n"
                           "MemFree:         1024000 kB\n"
                           "MemAvailable:    3000000 kB\n"
                           "Buffers:          102400 kB\n"
                           "Cached:           512000 kB\n"
                           "SReclaimable:      51200 kB\n");
    REQUIRE(m);
    CHECK(m->total_mib == 4000);
    CHECK(m->used_mib == (4096000 - 1024000 - 102400 - 512000 - 51200) / 1024);
    CHECK_FALSE(parse_meminfo("garbage"));
    CHECK_FALSE(parse_meminfo(""));
  }

  TEST_CASE("CPU usage is the busy share between two /proc/stat samples") {
    auto a = parse_proc_stat("cpu  100 0 100 700 100 0 0 0 0 0\n"
                             "cpu0 50 0 50 350 50 0 0 0 0 0\n");
    auto b = parse_proc_stat("cpu  150 0 150 800 100 0 0 0 0 0\n");
    REQUIRE(a);
    REQUIRE(b);
    CHECK(a->total == 1000);
    CHECK(a->busy == 200);
    CHECK(cpu_percent(*a, *b) == 50);
    CHECK(cpu_percent(*b, *b) == 0);
    CHECK_FALSE(parse_proc_stat("intr 1 2 3\n"));
  }

  TEST_CASE("a metric moves only when it leaves its bucket") {
    CHECK(bucketed(std::nullopt, 47, 20) == 47);
    CHECK(bucketed(47, 59, 20) == 47); // 40..59
    CHECK(bucketed(47, 60, 20) == 60);
    CHECK(bucketed(47, 39, 20) == 39);
    CHECK(bucketed(47, std::nullopt, 20) == std::nullopt);
    CHECK(bucketed(412, 418, 10) == 412);
    CHECK(bucketed(412, 420, 10) == 420);
  }

  TEST_CASE("the sampler reads this host without failing") {
    host_sampler s(real_host_provider(), "/tmp");
    auto first = s.sample();
    auto second = s.sample();
    CHECK(first.memory_total.has_value());
    CHECK(first.storage_total.has_value());
    CHECK_FALSE(first.cpu_usage.has_value()); // needs two samples
    CHECK(second.cpu_usage.has_value());
  }
}
