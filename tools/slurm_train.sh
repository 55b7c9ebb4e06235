#!/usr/bin/env bash
# Train under Slurm:
#   GPUS=16 bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR \
#       [tools/train.py options]
# TOOL (default train.py) and TOOL_ARGS (default --work-dir=WORK_DIR) name
# the tools/ script and its arguments after CONFIG; slurm_test.sh sets them.
#
# Preemption: on SIGTERM or SIGUSR1 tools/train.py finishes the iteration,
# saves iter_N.pth and exits with status 75 (PreemptionHook); this script
# then requeues the job (scontrol requeue, under sbatch --requeue) and the
# requeued job continues from that checkpoint if its options include
# --resume (a first start without a checkpoint starts fresh):
#   sbatch --signal=USR1@120 --requeue ... \
#       tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR --resume

set -x

PARTITION=$1
JOB_NAME=$2
CONFIG=$3
WORK_DIR=$4
TOOL=${TOOL:-train.py}
TOOL_ARGS=${TOOL_ARGS:-"--work-dir=${WORK_DIR}"}
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-""}
PY_ARGS=${@:5}

PYTHONPATH="$(dirname $0)/..":$PYTHONPATH \
srun -p ${PARTITION} \
    --job-name=${JOB_NAME} \
    --gres=gpu:${GPUS_PER_NODE} \
    --ntasks=${GPUS} \
    --ntasks-per-node=${GPUS_PER_NODE} \
    --cpus-per-task=${CPUS_PER_TASK} \
    --kill-on-bad-exit=1 \
    ${SRUN_ARGS} \
    python -u $(dirname "$0")/${TOOL} ${CONFIG} ${TOOL_ARGS} --launcher="slurm" ${PY_ARGS}
STATUS=$?

PREEMPTED=75  # mmbeitv2.engine.hooks.preemption_hook.PREEMPTED_EXIT_CODE
if [ "${STATUS}" -eq "${PREEMPTED}" ] && [ -n "${SLURM_JOB_ID}" ]; then
    # Fails for a job submitted without --requeue (or a cluster with
    # JobRequeue=0); the checkpoint is saved either way.
    scontrol requeue "${SLURM_JOB_ID}" || echo "slurm_train.sh: job" \
        "${SLURM_JOB_ID} was preempted and saved but cannot be requeued" \
        "(submit it with sbatch --requeue); resubmit it with --resume" >&2
fi
exit ${STATUS}
