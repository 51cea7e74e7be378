// Reference gRPC C++ server for Scripts/bench.
//
// Implements grpc.testing.BenchmarkService (UnaryCall, StreamingCall) with the
// callback API, cleartext, on 127.0.0.1:PORT. Exits 0 on SIGTERM/SIGINT.
//
// The C++ stubs are generated at build time by Scripts/bench from
// /usr/share/grpc-proto/grpc/testing/{benchmark_service,messages}.proto
// (Debian package grpc-proto) into .build-bench/; nothing generated is kept
// in the repository.
//
// Usage: reference_server PORT
// On shutdown it prints one line to stderr:
//   reference-server: stopped, unary_ok=N unary_error=M streaming_messages=K

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include <pthread.h>

#include <grpcpp/grpcpp.h>

#include "grpc/testing/benchmark_service.grpc.pb.h"

namespace {

using grpc::CallbackServerContext;
using grpc::ServerBidiReactor;
using grpc::ServerUnaryReactor;
using grpc::Status;
using grpc::testing::BenchmarkService;
using grpc::testing::SimpleRequest;
using grpc::testing::SimpleResponse;

std::atomic<unsigned long long> g_unary_ok{0};
std::atomic<unsigned long long> g_unary_error{0};
std::atomic<unsigned long long> g_stream_messages{0};

constexpr int kMaxResponseSize = 4 * 1024 * 1024;

// Fills `response` as requested by `request`; returns false if the size is
// out of range.
bool FillResponse(const SimpleRequest& request, SimpleResponse* response) {
  const int size = request.response_size();
  if (size < 0 || size > kMaxResponseSize) return false;
  if (size > 0) {
    response->mutable_payload()->mutable_body()->assign(
        static_cast<size_t>(size), '\0');
  }
  return true;
}

class BenchmarkServiceImpl final : public BenchmarkService::CallbackService {
  ServerUnaryReactor* UnaryCall(CallbackServerContext* context,
                                const SimpleRequest* request,
                                SimpleResponse* response) override {
    ServerUnaryReactor* reactor = context->DefaultReactor();
    if (FillResponse(*request, response)) {
      g_unary_ok.fetch_add(1, std::memory_order_relaxed);
      reactor->Finish(Status::OK);
    } else {
      g_unary_error.fetch_add(1, std::memory_order_relaxed);
      reactor->Finish(
          Status(grpc::StatusCode::INVALID_ARGUMENT, "bad response_size"));
    }
    return reactor;
  }

  ServerBidiReactor<SimpleRequest, SimpleResponse>* StreamingCall(
      CallbackServerContext* /*context*/) override {
    // One response per request (ping-pong).
    class PingPong final
        : public ServerBidiReactor<SimpleRequest, SimpleResponse> {
     public:
      PingPong() { StartRead(&request_); }

      void OnReadDone(bool ok) override {
        if (!ok) {
          Finish(Status::OK);
          return;
        }
        response_.Clear();
        if (!FillResponse(request_, &response_)) {
          Finish(Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "bad response_size"));
          return;
        }
        g_stream_messages.fetch_add(1, std::memory_order_relaxed);
        StartWrite(&response_);
      }

      void OnWriteDone(bool ok) override {
        if (!ok) {
          Finish(Status(grpc::StatusCode::UNKNOWN, "write failed"));
          return;
        }
        StartRead(&request_);
      }

      void OnDone() override { delete this; }
      void OnCancel() override {}

     private:
      SimpleRequest request_;
      SimpleResponse response_;
    };
    return new PingPong();
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s PORT\n", argv[0]);
    return 2;
  }
  char* end = nullptr;
  const long port = std::strtol(argv[1], &end, 10);
  if (end == argv[1] || *end != '\0' || port <= 0 || port > 65535) {
    std::fprintf(stderr, "invalid port: %s\n", argv[1]);
    return 2;
  }

  // Block SIGINT/SIGTERM in every thread (gRPC threads inherit this mask);
  // the main thread waits for them synchronously with sigwait.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  const std::string address = "127.0.0.1:" + std::to_string(port);
  BenchmarkServiceImpl service;
  grpc::ServerBuilder builder;
  int bound_port = 0;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(),
                           &bound_port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || bound_port == 0) {
    std::fprintf(stderr, "reference-server: failed to listen on %s\n",
                 address.c_str());
    return 1;
  }
  std::fprintf(stderr, "reference-server: listening on %s\n", address.c_str());
  std::fflush(stderr);

  int sig = 0;
  while (sigwait(&signals, &sig) != 0) {
  }

  server->Shutdown(std::chrono::system_clock::now() +
                   std::chrono::seconds(2));
  server->Wait();
  std::fprintf(stderr,
               "reference-server: stopped (signal %d), unary_ok=%llu "
               "unary_error=%llu streaming_messages=%llu\n",
               sig, g_unary_ok.load(), g_unary_error.load(),
               g_stream_messages.load());
  return 0;
}
