#include "core/cli.hpp"

int main(int argc, char** argv) { return hypertest::core::run_cli(argc, argv); }
