// A small JSON-schema (draft-04 subset) checker, enough for the runtime-spec
// schemas: type, enum, pattern, minimum/maximum, required, properties,
// patternProperties, additionalProperties, items, minItems, allOf/anyOf/oneOf
// and $ref across the schema files. Tests use it to hold our output to the
// spec's own schemas.
#pragma once

#include <map>
#include <regex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "test_util.hpp"

namespace berth::spec::testing {

class SchemaChecker {
 public:
  std::vector<std::string> check(const nlohmann::json& doc, const std::string& schemaFile) {
    errors_.clear();
    visit(doc, file(schemaFile), schemaFile, "$");
    return errors_;
  }

 private:
  using json = nlohmann::json;

  const json& file(const std::string& name) {
    auto it = files_.find(name);
    if (it == files_.end())
      it = files_.emplace(name, json::parse(readTestFile("schema/" + name))).first;
    return it->second;
  }

  static bool isType(const json& v, const std::string& t) {
    if (t == "object") return v.is_object();
    if (t == "array") return v.is_array();
    if (t == "string") return v.is_string();
    if (t == "boolean") return v.is_boolean();
    if (t == "integer") return v.is_number_integer();
    if (t == "number") return v.is_number();
    if (t == "null") return v.is_null();
    return false;
  }

  void fail(const std::string& path, const std::string& what) { errors_.push_back(path + ": " + what); }

  bool quietlyValid(const json& v, const json& schema, const std::string& base) {
    std::vector<std::string> saved;
    saved.swap(errors_);
    visit(v, schema, base, "");
    bool ok = errors_.empty();
    errors_.swap(saved);
    return ok;
  }

  void visit(const json& v, const json& schema, const std::string& base, const std::string& path) {
    if (schema.contains("$ref")) {
      std::string ref = schema["$ref"];
      size_t hash = ref.find('#');
      std::string target = hash == 0 ? base : ref.substr(0, hash);
      std::string pointer = hash == std::string::npos ? "" : ref.substr(hash + 1);
      visit(v, file(target).at(json::json_pointer(pointer)), target, path);
      return;
    }
    if (schema.contains("type")) {
      const json& t = schema["type"];
      bool ok = false;
      if (t.is_string()) ok = isType(v, t);
      else for (const auto& one : t) ok = ok || isType(v, one);
      if (!ok) return fail(path, "expected type " + t.dump() + ", got " + v.dump());
    }
    if (schema.contains("enum")) {
      bool found = false;
      for (const auto& e : schema["enum"]) found = found || e == v;
      if (!found) fail(path, v.dump() + " not in enum");
    }
    if (schema.contains("pattern") && v.is_string() &&
        !std::regex_search(v.get<std::string>(), std::regex(schema["pattern"].get<std::string>())))
      fail(path, v.dump() + " does not match " + schema["pattern"].dump());
    if (schema.contains("minimum") && v.is_number() && v.get<double>() < schema["minimum"].get<double>())
      fail(path, "below minimum");
    if (schema.contains("maximum") && v.is_number() && v.get<double>() > schema["maximum"].get<double>())
      fail(path, "above maximum");
    if (v.is_object()) visitObject(v, schema, base, path);
    if (v.is_array()) {
      if (schema.contains("minItems") && v.size() < schema["minItems"].get<size_t>()) fail(path, "too few items");
      if (schema.contains("items"))
        for (size_t i = 0; i < v.size(); ++i) visit(v[i], schema["items"], base, path + "[" + std::to_string(i) + "]");
    }
    if (schema.contains("allOf"))
      for (const auto& sub : schema["allOf"]) visit(v, sub, base, path);
    for (const char* kw : {"anyOf", "oneOf"}) {
      if (!schema.contains(kw)) continue;
      int matches = 0;
      for (const auto& sub : schema[kw]) matches += quietlyValid(v, sub, base) ? 1 : 0;
      if (matches == 0 || (std::string(kw) == "oneOf" && matches > 1)) fail(path, std::string("fails ") + kw);
    }
  }

  void visitObject(const json& v, const json& schema, const std::string& base, const std::string& path) {
    if (schema.contains("required"))
      for (const auto& key : schema["required"])
        if (!v.contains(key.get<std::string>())) fail(path, "missing required " + key.dump());
    for (auto it = v.begin(); it != v.end(); ++it) {
      std::string sub = path + "." + it.key();
      bool matched = false;
      if (schema.contains("properties") && schema["properties"].contains(it.key())) {
        matched = true;
        visit(it.value(), schema["properties"][it.key()], base, sub);
      }
      if (schema.contains("patternProperties")) {
        for (auto p = schema["patternProperties"].begin(); p != schema["patternProperties"].end(); ++p) {
          if (std::regex_search(it.key(), std::regex(p.key()))) {
            matched = true;
            visit(it.value(), p.value(), base, sub);
          }
        }
      }
      if (!matched && schema.contains("additionalProperties")) {
        const json& extra = schema["additionalProperties"];
        if (extra.is_boolean() && !extra.get<bool>()) fail(sub, "additional property not allowed");
        else if (extra.is_object()) visit(it.value(), extra, base, sub);
      }
    }
  }

  std::map<std::string, json> files_;
  std::vector<std::string> errors_;
};

}  // namespace berth::spec::testing
