"""A training run: chunks of steps between which Python keeps the books.

A chunk runs either inside one compiled function (the fused loop, for
built-in optimizers and schedules without callbacks) or in a Python loop
calling the same numba pieces; between chunks Python handles epochs,
validation, history, checkpoints, progress and the time budget. Both loops
take bit-identical steps. :mod:`symgrad.train.driver` checks the arguments
and builds the :class:`Job`.
"""

from __future__ import annotations

import functools
import hashlib
import math
import time
from dataclasses import dataclass

import numpy as np

from ..compile.compiled import CompiledModel
from ..errors import DeclarationError, DivergenceError
from ..optim.base import Optimizer, OptimizerState
from ..optim.schedules import Schedule
from . import steps
from .checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from .fused import fused_loop, schedule_array, supports_fused
from .progress import Progress, progress_wanted
from .result import FitResult, HistoryRecorder

__all__ = ["Job", "StepInfo", "run", "EXPLODE_FACTOR"]

_CALLBACK = -1
#: Steps of the first chunk; later chunks are sized to take about ``_CHUNK_SECONDS``.
_FIRST_CHUNK, _CHUNK_SECONDS, _MAX_CHUNK = 64, 0.2, 1 << 20
#: Default divergence threshold: the loss exceeding this many times max(1, |initial loss|).
EXPLODE_FACTOR = 1e6


@dataclass(frozen=True)
class StepInfo:
    """What a callback sees after each step (``theta`` is the live array: copy to keep it)."""

    step: int
    epoch: int
    loss: float
    grad_norm: float
    lr: float
    theta: np.ndarray


@dataclass
class Job:
    """Everything a run needs that its arguments fixed."""

    compiled: CompiledModel
    optimizer: Optimizer
    schedule: object
    X: np.ndarray | None
    T: np.ndarray | None
    batch: int
    shuffle: bool
    max_iter: float
    max_epochs: float
    tol: float
    ftol: float
    time_limit: float
    callbacks: tuple
    validation: tuple | None
    fused: bool
    checkpoint: str | None
    checkpoint_every: int
    progress: Progress
    check_every: int | None = None

    @functools.cached_property
    def signature(self) -> str:
        return _model_signature(self.compiled)


class _Position:
    """Where the run is: steps taken, epochs completed, batch within the epoch."""

    def __init__(self, step=0, epoch=0, batch=0):
        self.step, self.epoch, self.batch = step, epoch, batch


def run(job: Job, theta, seed, diverge_above, resume, fused, progress) -> FitResult:
    compiled, optimizer = job.compiled, job.optimizer
    can_fuse = supports_fused(optimizer) and isinstance(job.schedule, Schedule) and not job.callbacks
    if fused and not can_fuse:
        raise DeclarationError("the fused loop needs a built-in optimizer (not Newton), a built-in schedule "
                               "and no callbacks")
    job.fused = can_fuse if fused is None else bool(fused)
    seed = int(np.random.SeedSequence(seed).entropy) if job.X is not None else None
    state = optimizer.init(theta)
    position = _Position()
    recorder = HistoryRecorder()
    elapsed = 0.0
    if resume is not None:
        saved = load_checkpoint(resume)
        _check_resumable(saved, job, theta)
        theta = saved.theta.astype(compiled.dtype)
        state = OptimizerState(saved.state_names, saved.state_arrays.astype(compiled.dtype), saved.state_step)
        position = _Position(saved.step, saved.epoch, saved.batch)
        explode, elapsed = saved.explode, saved.elapsed
        seed = saved.seed if job.X is not None else None
        recorder = HistoryRecorder(saved.history)
    else:
        # loss_and_grad, not loss: it is compiled already, the loss kernel would be one more compile
        loss0 = compiled.loss_and_grad(theta, *(() if job.X is None else (job.X, job.T)))[0]
        if not math.isfinite(loss0):
            raise DivergenceError(f"the loss is {loss0} at the initial parameters", theta=theta.copy(),
                                  params=_params(compiled, theta), step=0, loss=loss0)
        explode = EXPLODE_FACTOR * max(1.0, abs(loss0)) if diverge_above is None else float(diverge_above)
    loop = _Loop(job, theta, state, seed, explode)
    if position.step:
        loop.previous, loop.has_previous = float(recorder.history().loss[-1]), True
    total = min(job.max_iter, job.max_epochs * loop.batches)
    job.progress = Progress(None if math.isinf(total) else int(total), progress_wanted(progress))
    loop.compile(position)
    started = time.perf_counter() - elapsed
    try:
        reason, final = loop.run(position, recorder, started)
    finally:
        job.progress.close()
    elapsed = time.perf_counter() - started
    if job.checkpoint is not None:
        loop.save(position, recorder, elapsed)
    if final is None:
        final = loop.full_evaluation()
    return FitResult(params=_params(compiled, loop.theta), theta=loop.theta, history=recorder.history(),
                     loss=final[0], grad_norm=final[1], n_iter=position.step, n_epochs=position.epoch,
                     reason=reason, elapsed=elapsed, fused=job.fused, state=loop.state, seed=seed)


def _params(compiled: CompiledModel, theta) -> dict:
    return compiled.layout.unflatten(theta)


def _check_resumable(saved: Checkpoint, job: Job, theta) -> None:
    if saved.theta.shape != theta.shape:
        raise DeclarationError(f"the checkpoint holds {saved.theta.size} parameters, "
                               f"this model has {theta.size}")
    if saved.model != job.signature:
        raise DeclarationError(f"the checkpoint was written for another model or other compile options "
                               f"(dtype, parallel, ...): {saved.model}, not {job.signature}")
    if saved.optimizer != repr(job.optimizer):
        raise DeclarationError(f"the checkpoint was written by {saved.optimizer}, not {job.optimizer!r}; "
                               "resume with the same optimizer")


def _model_signature(compiled: CompiledModel) -> str:
    """The model's symbols and a hash of its kernels' source (which the loss, dtype and compile
    options shape, not the library versions): a checkpoint resumes only the run that wrote it."""
    layout = compiled.layout
    roles = "; ".join(f"{role} ({', '.join(map(str, symbols))})" for role, symbols in
                      (("params", layout.params), ("inputs", layout.inputs), ("targets", layout.targets)))
    return f"{roles}; kernels {hashlib.sha256(compiled.source.encode()).hexdigest()[:16]}"


def _batch_sizes(n: int, batch: int) -> np.ndarray:
    sizes = np.full(-(-n // batch), batch, dtype=np.float64)
    sizes[-1] = n - batch * (sizes.size - 1)
    return sizes


class _Loop:
    """The state of a run between chunks."""

    def __init__(self, job: Job, theta, state, seed, explode):
        self.job, self.theta, self.state, self.seed = job, theta, state, seed
        self.explode = explode
        compiled = job.compiled
        self.kernel = compiled.module.loss_and_grad
        self.grad = np.empty_like(theta)
        self.last_good = theta.copy()
        self.hyper = job.optimizer.hyper().astype(np.float64) if job.fused else None
        self.run_fused = fused_loop(compiled, job.optimizer) if job.fused else None
        n = 0 if job.X is None else job.X.shape[0]
        self.batches = math.inf if job.X is None else -(-n // job.batch)
        self.sizes = None if job.X is None else _batch_sizes(n, job.batch)
        self.order_changes = job.X is not None and job.shuffle and self.batches > 1
        self.previous, self.has_previous = 0.0, False
        self._epoch_data = (None, None, None)

    # -- data of an epoch
    def data(self, epoch: int):
        if not self.order_changes:
            return self.job.X, self.job.T
        if self._epoch_data[0] != epoch:
            order = np.random.default_rng([self.seed, epoch]).permutation(self.job.X.shape[0])
            self._epoch_data = (epoch, self.job.X[order], self.job.T[order])
        return self._epoch_data[1:]

    # -- main loop
    def run(self, position: _Position, recorder: HistoryRecorder, started: float):
        job = self.job
        chunk = _FIRST_CHUNK
        while True:
            if position.step >= job.max_iter:
                return "max_iter", None
            if position.epoch >= job.max_epochs:
                return "max_epochs", None
            if time.perf_counter() - started >= job.time_limit:
                return "time_limit", None
            count = self._chunk_size(position, chunk)
            began = time.perf_counter()
            done, status, losses, norms, rates = self.chunk(position, count)
            recorder.steps(losses[:done], norms[:done], rates[:done])
            self.previous, self.has_previous = (float(losses[done - 1]), True) if done else \
                (self.previous, self.has_previous)
            epoch_before = position.epoch
            self._advance(position, done, recorder)
            if status in (steps.NON_FINITE, steps.EXPLODED):
                self._diverged(position, status, float(losses[done]), float(norms[done]))
            if status in (steps.GRADIENT_NORM, steps.LOSS_CHANGE):
                return steps.STATUS_REASONS[status], (float(losses[done]), float(norms[done]))
            if status == _CALLBACK:
                return "callback", None
            if position.epoch > epoch_before and self._epoch_converged():
                return "gradient_norm", self.full_evaluation()
            if job.check_every and position.step % job.check_every == 0 and done:
                self.check_gradient()
            if job.checkpoint is not None and position.step % job.checkpoint_every == 0 and done:
                self.save(position, recorder, time.perf_counter() - started)
            job.progress.update(position.step, float(losses[max(done - 1, 0)]))
            spent = time.perf_counter() - began
            chunk = int(min(_MAX_CHUNK, max(1, count * _CHUNK_SECONDS / spent))) if spent > 0 else _MAX_CHUNK

    def _chunk_size(self, position: _Position, chunk: int) -> int:
        job = self.job
        count = min(chunk, job.max_iter - position.step)
        for every in (job.checkpoint_every if job.checkpoint is not None else None, job.check_every):
            if every:
                count = min(count, every - position.step % every)
        if job.X is not None:
            left_in_epoch = self.batches - position.batch
            epochs_left = job.max_epochs - position.epoch
            count = min(count, left_in_epoch + (epochs_left - 1) * self.batches)
            stays_in_epoch = self.order_changes or job.validation is not None or \
                (job.tol >= 0 and self.batches > 1)
            if stays_in_epoch:
                count = min(count, left_in_epoch)
        return int(max(count, 1))

    def compile(self, position: _Position) -> None:
        """Compile (or load) the fused loop now: a zero-step chunk, outside the timed loop."""
        if self.job.fused:
            self.chunk(position, 0)

    def chunk(self, position: _Position, count: int):
        losses, norms, rates = np.zeros(count + 1), np.zeros(count + 1), np.zeros(count + 1)
        job = self.job
        converge = job.X is None or self.batches == 1
        limits = np.array([job.tol, job.ftol, self.explode, 1.0 if converge else 0.0])
        if job.fused:
            schedule = schedule_array(job.schedule)
            where = (count,) if job.X is None else \
                (*self.data(position.epoch), job.batch, position.batch, count)
            done, status = self.run_fused(self.theta, *where, self.state.arrays, self.hyper, schedule,
                                          float(job.optimizer.lr), position.step, self.grad, self.last_good,
                                          limits, self.previous, self.has_previous, losses, norms, rates)
            self.state.step += done
        else:
            done, status = self._python_chunk(position, count, limits, losses, norms, rates)
        return done, status, losses, norms, rates

    def _python_chunk(self, position: _Position, count: int, limits, losses, norms, rates):
        job, optimizer = self.job, self.job.optimizer
        data = job.X is not None
        X, T = self.data(position.epoch) if data else (None, None)
        previous, has_previous = self.previous, self.has_previous
        for j in range(count):
            if data:
                b = (position.batch + j) % self.batches
                rows = slice(b * job.batch, min((b + 1) * job.batch, X.shape[0]))
                batch_data = (X[rows], T[rows])
            else:
                batch_data = ()
            loss = self.kernel(self.theta, *batch_data, self.grad)
            norm = steps.grad_norm(self.grad)
            losses[j], norms[j] = loss, norm
            status = steps.step_status(loss, norm, previous, has_previous, limits[0], limits[1], limits[2],
                                       limits[3] != 0.0)
            if status != steps.RUNNING:
                return j, status
            rate = job.schedule(position.step + j, optimizer.lr)
            rates[j] = rate
            self.last_good[:] = self.theta
            if optimizer.needs_hessian:
                hessian = self._hessian(batch_data)
                optimizer.update(self.theta, self.grad, self.state, rate, hessian=hessian)
            else:
                optimizer.update(self.theta, self.grad, self.state, rate)
            previous, has_previous = float(loss), True
            if job.callbacks:
                epoch = position.epoch + (position.batch + j) // self.batches if data else position.epoch
                info = StepInfo(position.step + j + 1, epoch, float(loss), float(norm), rate, self.theta)
                if any([callback(info) is True for callback in job.callbacks]):
                    return j + 1, _CALLBACK
        return count, steps.RUNNING

    def _hessian(self, batch_data):
        module = self.job.compiled.module
        if not hasattr(module, "hessian"):
            raise DeclarationError("Newton needs the Hessian kernel: compile the model with hessian=True")
        n = self.theta.shape[0]
        return module.hessian(self.theta, *batch_data, np.empty((n, n), self.theta.dtype))

    def _advance(self, position: _Position, done: int, recorder: HistoryRecorder) -> None:
        # The epoch loss is computed from the recorded step losses of the whole
        # epoch at once, so it does not depend on how the epoch was chunked.
        first_step = position.step - position.batch
        position.step += done
        if self.job.X is None:
            return
        if self.batches == 1 and self.job.validation is None:
            # Full batch: every step is an epoch. Recorded at once, with the arithmetic of the
            # loop below (a dot product of one term is one product), which costs microseconds
            # of Python per epoch: a third of a small model's step.
            losses = recorder.step_losses(first_step, first_step + done)
            recorder.epochs(losses * self.sizes[0] / self.job.X.shape[0], np.full(done, math.nan))
            position.epoch += done
            return
        while position.batch + done >= self.batches:
            losses = recorder.step_losses(first_step, first_step + self.batches)
            recorder.epoch(float(np.dot(losses, self.sizes)) / self.job.X.shape[0], self._validation_loss())
            position.epoch += 1
            done -= self.batches - position.batch
            first_step += self.batches
            position.batch = 0
        position.batch += done

    def _validation_loss(self) -> float:
        if self.job.validation is None:
            return math.nan
        return self.job.compiled.loss(self.theta, *self.job.validation)

    def _epoch_converged(self) -> bool:
        # Mini-batch runs test the tolerance on the full data once per epoch.
        return self.job.tol >= 0 and self.batches > 1 and self.full_evaluation()[1] <= self.job.tol

    def check_gradient(self) -> None:
        """The gradient check of ``check_every``: central differences on a few samples."""
        from ..check.quick import BATCH_ROWS, quick_check

        job = self.job
        data = () if job.X is None else (job.X[:BATCH_ROWS], job.T[:BATCH_ROWS])
        quick_check(job.compiled, self.theta.copy(), *data).assert_ok()

    def full_evaluation(self) -> tuple[float, float]:
        job = self.job
        data = () if job.X is None else (job.X, job.T)
        loss, grad = job.compiled.loss_and_grad(self.theta, *data)
        return loss, float(steps.grad_norm(grad))

    def _diverged(self, position: _Position, status: int, loss: float, norm: float) -> None:
        if status == steps.EXPLODED:
            what = f"the loss {loss:.6g} exceeded the divergence threshold {self.explode:.6g}"
        elif math.isfinite(loss):
            what = f"the gradient norm became {norm} (the loss is {loss:.6g})"
        else:
            what = f"the loss became {loss}"
        raise DivergenceError(
            f"training diverged at step {position.step}: {what}. The last parameters with a finite loss are "
            f"in error.theta / error.params; try a smaller learning rate.",
            theta=self.last_good.copy(), params=_params(self.job.compiled, self.last_good),
            step=position.step, loss=loss)

    def save(self, position: _Position, recorder: HistoryRecorder, elapsed: float) -> None:
        save_checkpoint(self.job.checkpoint, Checkpoint(
            theta=self.theta, state_names=self.state.names, state_arrays=self.state.arrays,
            state_step=self.state.step, step=position.step, epoch=position.epoch, batch=position.batch,
            seed=0 if self.seed is None else self.seed, optimizer=repr(self.job.optimizer),
            model=self.job.signature,
            explode=self.explode, elapsed=elapsed, history=recorder.history()))
