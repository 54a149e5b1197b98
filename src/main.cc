#include "cli/cli.h"

int main(int argc, char** argv) { return paidoc::cli::run(argc, argv); }
