// One function per CLI command; each returns the exit code and may throw util::Fatal.
#pragma once

#include "core/session.hpp"

namespace hypertest::core {

int cmd_init(const Options& o);
int cmd_doctor(const Options& o);
int cmd_deploy(const Options& o);
int cmd_invoke(const Options& o);
int cmd_run(const Options& o);
int cmd_list(const Options& o, bool show_plan);

}  // namespace hypertest::core
