# SPDX-License-Identifier: Apache-2.0
set(PEL_PRECOMPILE_SOURCES
  precompiles/precompiles.cpp
  precompiles/bn254.cpp
  precompiles/bls12_381.cpp
  precompiles/kzg.cpp)
