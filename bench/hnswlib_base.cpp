// hnswlib_base.cpp — the baseline of bench_index: hnswlib (Debian's
// header-only libhnswlib-dev) on the same data, with the same M,
// efConstruction and ef sweep, built with the same compiler flags as maif
// (bench/run.sh also builds a -march=native variant, since hnswlib picks
// its SIMD at compile time). Used only by the benchmarks.
//
// usage: hnswlib_base BASE.f32 QUERIES.f32 GT.u32 N DIM NQ K M EFC WORKDIR
// prints "key value..." lines that bench_index reads.
#include <hnswlib/hnswlib.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

static double now()
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

static std::vector<char> slurp(const char *p)
{
    std::ifstream f(p, std::ios::binary);
    return std::vector<char>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

int main(int argc, char **argv)
{
    if (argc != 11) {
        std::fprintf(stderr, "usage: hnswlib_base BASE QUERIES GT N DIM NQ K M EFC WORKDIR\n");
        return 2;
    }
    std::vector<char> bb = slurp(argv[1]), qb = slurp(argv[2]), gb = slurp(argv[3]);
    size_t n = std::strtoull(argv[4], 0, 10), dim = std::strtoull(argv[5], 0, 10), nq = std::strtoull(argv[6], 0, 10);
    size_t k = std::strtoull(argv[7], 0, 10), M = std::strtoull(argv[8], 0, 10), efc = std::strtoull(argv[9], 0, 10);
    std::string dir = argv[10];
    if (bb.size() != n * dim * 4 || qb.size() != nq * dim * 4 || gb.size() != nq * k * 4) {
        std::fprintf(stderr, "hnswlib_base: input sizes do not match\n");
        return 2;
    }
    const float *base = (const float *)bb.data(), *qs = (const float *)qb.data();
    const uint32_t *gt = (const uint32_t *)gb.data();
    hnswlib::L2Space space(dim);
    for (int threads = 1; threads <= 2; threads++) {
        hnswlib::HierarchicalNSW<float> idx(&space, n, M, efc, 100);
        double t0 = now();
        if (threads == 1) {
            for (size_t i = 0; i < n; i++) idx.addPoint(base + i * dim, i);
        } else {
            idx.addPoint(base, 0);
            std::vector<std::thread> th;
            for (int t = 0; t < threads; t++)
                th.emplace_back([&, t] {
                    for (size_t i = 1 + t; i < n; i += threads) idx.addPoint(base + i * dim, i);
                });
            for (auto &x : th) x.join();
        }
        double t1 = now();
        std::printf("build %d %.3f\n", threads, t1 - t0);
        if (threads == 2) break;
        std::string path = dir + "/hnswlib.bin";
        idx.saveIndex(path);
        std::ifstream f(path, std::ios::binary | std::ios::ate);
        std::printf("bytes_per_vector %.1f\n", (double)f.tellg() / (double)n);
        double o0 = now();
        hnswlib::HierarchicalNSW<float> *loaded = new hnswlib::HierarchicalNSW<float>(&space, path);
        double o1 = now();
        std::printf("open %.6f\n", o1 - o0);
        delete loaded;
        std::remove(path.c_str());
        static const size_t efs[] = {10, 12, 16, 20, 24, 32, 40, 48, 64, 80, 96, 128, 160, 192, 256, 320, 384, 512, 768, 1024};
        for (size_t e : efs) {
            idx.setEf(e);
            size_t hit = 0;
            double best = 1e30;
            for (int rep = 0; rep < 3; rep++) {
                double s0 = now();
                size_t h = 0;
                for (size_t q = 0; q < nq; q++) {
                    auto res = idx.searchKnn(qs + q * dim, k);
                    while (!res.empty()) {
                        uint32_t id = (uint32_t)res.top().second;
                        res.pop();
                        for (size_t j = 0; j < k; j++)
                            if (gt[q * k + j] == id) {
                                h++;
                                break;
                            }
                    }
                }
                double s1 = now();
                if (s1 - s0 < best) best = s1 - s0;
                hit = h;
            }
            std::printf("sweep %zu %.4f %.1f\n", e, (double)hit / (double)(nq * k), (double)nq / best);
        }
    }
    return 0;
}
