#pragma once

// bosun's actors live in one process and never serialize messages, so domain
// types travel as local-only messages: no inspect() needed, and fields may be
// std::optional, std::map or nested structs. A type crossing an actor boundary
// must be declared once, at global scope, next to its definition:
//
//   BOSUN_MESSAGE(bosun::container_created)
#include <caf/allowed_unsafe_message_type.hpp>

#define BOSUN_MESSAGE(type) CAF_ALLOW_UNSAFE_MESSAGE_TYPE(type)
