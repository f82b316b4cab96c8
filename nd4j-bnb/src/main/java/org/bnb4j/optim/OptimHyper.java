package org.bnb4j.optim;

/**
 * The float hyper-parameters of one step, computed once per step in double and rounded to float,
 * so that the Java and native kernels see identical values (bias corrections included).
 */
public final class OptimHyper {
    final OptimKind kind;
    final float lr, beta1, beta2, eps, stepSize, epsHat, oneMinusBeta1, oneMinusBeta2;
    final boolean firstStep;

    private OptimHyper(OptimKind kind, double lr, double beta1, double beta2, double eps, double stepSize, double epsHat, boolean firstStep) {
        this.kind = kind;
        this.lr = (float) lr;
        this.beta1 = (float) beta1;
        this.beta2 = (float) beta2;
        this.eps = (float) eps;
        this.stepSize = (float) stepSize;
        this.epsHat = (float) epsHat;
        this.oneMinusBeta1 = (float) (1 - beta1);
        this.oneMinusBeta2 = (float) (1 - beta2);
        this.firstStep = firstStep;
    }

    /** Adam at step t (1-based): update = lr * sqrt(1-b2^t)/(1-b1^t) * m / (sqrt(v) + eps * sqrt(1-b2^t)). */
    public static OptimHyper adam(double lr, double beta1, double beta2, double eps, long t) {
        checkStep(t);
        double c1 = 1 - Math.pow(beta1, t), c2 = Math.sqrt(1 - Math.pow(beta2, t));
        return new OptimHyper(OptimKind.ADAM, lr, beta1, beta2, eps, lr * c2 / c1, eps * c2, t == 1);
    }

    public static OptimHyper momentum(double lr, double momentum, long t) {
        checkStep(t);
        return new OptimHyper(OptimKind.MOMENTUM, lr, momentum, 0, 0, lr, 0, t == 1);
    }

    public static OptimHyper rmsprop(double lr, double decay, double eps) {
        return new OptimHyper(OptimKind.RMSPROP, lr, decay, 0, eps, lr, eps, false);
    }

    public static OptimHyper adagrad(double lr, double eps) {
        return new OptimHyper(OptimKind.ADAGRAD, lr, 0, 0, eps, lr, eps, false);
    }

    public static OptimHyper lion(double lr, double beta1, double beta2) {
        return new OptimHyper(OptimKind.LION, lr, beta1, beta2, 0, lr, 0, false);
    }

    private static void checkStep(long t) {
        if (t < 1) throw new IllegalArgumentException("optimizer step count starts at 1, got " + t);
    }

    public OptimKind kind() {
        return kind;
    }

    /** Layout expected by the native library: lr, beta1, beta2, eps, stepSize, epsHat, 1-beta1, 1-beta2. */
    float[] toArray() {
        return new float[]{lr, beta1, beta2, eps, stepSize, epsHat, oneMinusBeta1, oneMinusBeta2};
    }
}
