#pragma once

// The device API keys in memory: lookup by key and by (app id, service), the
// rules for making and replacing keys. Pure: the caller stores the records
// it is told to store, and supplies the key generator.
#include "messages/db.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace bosun {

// 32 lowercase hex digits from the system's random device (a UUIDv4's
// randomness, no dashes).
std::string random_api_key();

class key_table {
public:
  using generator = std::function<std::string()>;

  explicit key_table(generator gen = random_api_key);

  // Replaces the table's contents (records as the db returns them; a later
  // record of the same (app id, service) wins).
  void load(const std::vector<api_key_record>& records);

  std::optional<api_key_record> find(const std::string& key) const;
  std::optional<std::string> key_of(int64_t app_id,
                                    const std::string& service) const;
  std::optional<std::string> global() const {
    return key_of(0, "");
  }

  // A fresh record for (app id, service) with a key no record holds; not
  // added yet: store it, then put() it.
  api_key_record make(int64_t app_id, const std::string& service) const;

  // Adds a record, dropping the key (app id, service) had before.
  void put(const api_key_record& r);

  std::size_t size() const {
    return by_key_.size();
  }

private:
  generator gen_;
  std::map<std::string, api_key_record> by_key_;
  std::map<std::pair<int64_t, std::string>, std::string> by_owner_;
};

} // namespace bosun
