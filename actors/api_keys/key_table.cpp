#include "actors/api_keys/key_table.hpp"

#include <random>

namespace bosun {

std::string random_api_key() {
  std::random_device rd;
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(32);
  for (int i = 0; i < 32; ++i)
    out += digits[rd() % 16];
  return out;
}

key_table::key_table(generator gen) : gen_(std::move(gen)) {}

void key_table::load(const std::vector<api_key_record>& records) {
  by_key_.clear();
  by_owner_.clear();
  for (const auto& r : records)
    put(r);
}

std::optional<api_key_record> key_table::find(const std::string& key) const {
  auto it = by_key_.find(key);
  if (it == by_key_.end())
    return std::nullopt;
  return it->second;
}

std::optional<std::string> key_table::key_of(int64_t app_id,
                                             const std::string& service) const {
  auto it = by_owner_.find({app_id, service});
  if (it == by_owner_.end())
    return std::nullopt;
  return it->second;
}

api_key_record key_table::make(int64_t app_id,
                               const std::string& service) const {
  api_key_record r;
  r.app_id = app_id;
  r.service_name = service;
  // A collision of 128 random bits will not happen, but a generator in a
  // test may repeat itself: never hand out a key another record holds.
  do {
    r.key = gen_();
  } while (r.key.empty() || by_key_.count(r.key) != 0);
  return r;
}

void key_table::put(const api_key_record& r) {
  auto owner = std::make_pair(r.app_id, r.service_name);
  auto old = by_owner_.find(owner);
  if (old != by_owner_.end()) {
    by_key_.erase(old->second);
    old->second = r.key;
  } else {
    by_owner_.emplace(owner, r.key);
  }
  // A key moved to another owner leaves its previous owner keyless.
  auto prev = by_key_.find(r.key);
  if (prev != by_key_.end()
      && (prev->second.app_id != r.app_id
          || prev->second.service_name != r.service_name))
    by_owner_.erase({prev->second.app_id, prev->second.service_name});
  by_key_[r.key] = r;
}

} // namespace bosun
