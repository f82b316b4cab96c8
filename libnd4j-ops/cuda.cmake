# libbnb4j_cuda.so, the GPU test runner (gpu_check) and the GPU benchmark (gpu_bench); included by
# CMakeLists.txt once nvcc is found. CMake >= 3.18 (CUDA architectures, CUDAToolkit).
enable_language(CUDA)
find_package(CUDAToolkit REQUIRED)
set(CMAKE_CUDA_STANDARD 17)
set(CMAKE_CUDA_STANDARD_REQUIRED ON)
# sm_80 and sm_90 machine code plus sm_90 PTX (newer GPUs compile it at load). scripts/gpu-check.sh
# passes only the GPU's own architecture, which halves the compile.
set(BNB4J_CUDA_ARCHS "80-real;90-real;90-virtual" CACHE STRING "CUDA architectures of libbnb4j_cuda.so")
set(CUDA_SRC src/main/cuda)

add_library(bnb4j_cuda SHARED
  ${CUDA_SRC}/runtime.cu
  ${CUDA_SRC}/quant.cu
  ${CUDA_SRC}/optim.cu)
if(BNB4J_JNI)
  target_sources(bnb4j_cuda PRIVATE ${CUDA_SRC}/jni_cuda.cpp)
  target_include_directories(bnb4j_cuda PRIVATE ${JNI_H_DIR} ${JNI_MD_DIR})
endif()
target_include_directories(bnb4j_cuda PRIVATE ${SRC} ${CUDA_SRC})
set_target_properties(bnb4j_cuda PROPERTIES
  CUDA_ARCHITECTURES "${BNB4J_CUDA_ARCHS}"
  CUDA_RUNTIME_LIBRARY Static
  LIBRARY_OUTPUT_DIRECTORY "${BNB4J_OUTPUT_DIR}")
# The codes must equal the CPU kernels' bit for bit: no FMA contraction (-fmad=false, the CPU build's
# -ffp-contract=off), IEEE division and square root, denormals kept; never --use_fast_math.
# --expt-relaxed-constexpr: the state loops index with std::integral_constant (optimizers.h for_states).
target_compile_options(bnb4j_cuda PRIVATE
  $<$<COMPILE_LANGUAGE:CUDA>:-O3 -fmad=false -prec-div=true -prec-sqrt=true -ftz=false --expt-relaxed-constexpr -Xcompiler=-fvisibility=hidden,-ffp-contract=off,-fno-fast-math>
  $<$<COMPILE_LANGUAGE:CXX>:-O3 -Wall -Wextra -fvisibility=hidden -ffp-contract=off -fno-fast-math>)
# Nothing but the driver (libcuda.so, loaded by the static runtime) is needed at run time.
target_link_libraries(bnb4j_cuda PRIVATE CUDA::cudart_static -static-libstdc++ -static-libgcc)

# The GPU test runner: every kernel against the CPU library (its objects linked in) on the same input.
add_executable(gpu_check src/test/cuda/gpu_check.cpp $<TARGET_OBJECTS:bnb4j_objs>)
target_include_directories(gpu_check PRIVATE ${SRC} ${CUDA_SRC} src/test/cuda)
target_compile_options(gpu_check PRIVATE -O2 -ffp-contract=off)
target_link_libraries(gpu_check PRIVATE bnb4j_cuda CUDA::cudart_static OpenMP::OpenMP_CXX)

# The GPU benchmark (bandwidth against a device-to-device copy of the same run).
add_executable(gpu_bench src/bench/cuda/gpu_bench.cpp)
target_include_directories(gpu_bench PRIVATE ${SRC} ${CUDA_SRC} src/test/cuda)
target_compile_options(gpu_bench PRIVATE -O2)
target_link_libraries(gpu_bench PRIVATE bnb4j_cuda CUDA::cudart_static)
