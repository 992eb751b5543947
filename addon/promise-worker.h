// A Promise-returning AsyncWorker: `work` runs on a libuv worker thread and must not touch Napi; `done` builds the
// JS result on the JS thread. Pins the given JS objects (wrappers) until it settles. Exceptions in `work` reject
// the promise with a coded error (native_error keeps its code; anything else is INTERNAL). `work` runs under an
// abort_guard: a GGML_ABORT it reaches rejects the promise (INTERNAL, or the code the work maps it to).
#pragma once

#include "abort-guard.h"
#include "errors.h"

#include <napi.h>

#include <functional>
#include <string>
#include <vector>

namespace effect_llama {

class PromiseWorker : public Napi::AsyncWorker {
public:
    using Work = std::function<void()>;
    using Done = std::function<Napi::Value(Napi::Env)>;

    static Napi::Promise Queue(Napi::Env env, const char * name, std::vector<Napi::Object> pins, Work work, Done done) {
        auto * worker = new PromiseWorker(env, name, std::move(pins), std::move(work), std::move(done));
        Napi::Promise promise = worker->deferred.Promise();
        worker->Napi::AsyncWorker::Queue();
        return promise;
    }

protected:
    void Execute() override {
        try {
            abort_guard guard;
            work();
        } catch (const native_error & e) {
            error_code = e.code;
            SetError(e.what());
        } catch (const std::exception & e) {
            error_code = code::INTERNAL;
            SetError(e.what());
        }
    }

    void OnOK() override {
        Napi::Env env = Env();
        try {
            deferred.Resolve(done ? done(env) : env.Undefined());
        } catch (const Napi::Error & e) {
            deferred.Reject(e.Value());
        }
    }

    void OnError(const Napi::Error & e) override {
        deferred.Reject(coded_error(Env(), error_code, e.Message()).Value());
    }

private:
    PromiseWorker(Napi::Env env, const char * name, std::vector<Napi::Object> pins, Work work, Done done)
        : Napi::AsyncWorker(env, name), deferred(Napi::Promise::Deferred::New(env)), work(std::move(work)),
          done(std::move(done)) {
        for (auto & pin : pins) {
            refs.push_back(Napi::Persistent(pin));
        }
    }

    Napi::Promise::Deferred deferred;
    Work work;
    Done done;
    std::vector<Napi::ObjectReference> refs;
    std::string error_code = code::INTERNAL;
};

} // namespace effect_llama
