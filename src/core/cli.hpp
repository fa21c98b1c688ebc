#pragma once

namespace hypertest::core {

// Parses argv and runs the command. Returns the process exit code:
// 0 all passed, 1 a test failed, 2 config/infrastructure error, 130 interrupted.
int run_cli(int argc, char** argv);

}  // namespace hypertest::core
