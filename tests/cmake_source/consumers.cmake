# The programs of both consumer projects here (add_subdirectory/ and fetchcontent/),
# once ngc-cells' targets exist: tests/consumer's C and C++ programs, each against the
# shared and the static library. Each runs one step of ngc-learn's BernoulliErrorCell
# test and prints "consumer ok (...)".
set(_consumer_src "${CMAKE_CURRENT_LIST_DIR}/../consumer")

# The default target (the shared library), and the static one with its system libraries.
add_executable(consumer_shared "${_consumer_src}/consumer.c")
target_link_libraries(consumer_shared PRIVATE ngc_cells::ngc_cells m)
add_executable(consumer_static "${_consumer_src}/consumer.c")
target_link_libraries(consumer_static PRIVATE ngc_cells::ngc_cells_static m)

# C++: the ngc_cells.hpp wrapper the targets bring, against both libraries.
set(CMAKE_CXX_STANDARD 17)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
add_executable(consumer_cxx_shared "${_consumer_src}/consumer_cxx.cpp")
target_link_libraries(consumer_cxx_shared PRIVATE ngc_cells::ngc_cells_shared)
add_executable(consumer_cxx_static "${_consumer_src}/consumer_cxx.cpp")
target_link_libraries(consumer_cxx_static PRIVATE ngc_cells::ngc_cells_static)

# The package file's variables reach this project too.
message(STATUS "consumer sees ngc_cells ${ngc_cells_VERSION}, soname ${ngc_cells_SONAME}, "
               "headers ${ngc_cells_INCLUDE_DIRS}, static: ${ngc_cells_STATIC_LINK_LIBRARIES}")
