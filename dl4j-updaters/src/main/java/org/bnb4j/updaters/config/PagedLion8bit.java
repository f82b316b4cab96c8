package org.bnb4j.updaters.config;

import lombok.EqualsAndHashCode;
import lombok.ToString;
import org.nd4j.linalg.schedule.ISchedule;

/**
 * bitsandbytes' PagedLion8bit: Lion8bit with {@code paged(true)}, its state in a file-backed mapping the OS
 * pages out when memory runs short (docs/PAGED.md). The same fields and JSON as Lion8bit, plus the
 * paged settings; {@code pagedDirectory} as there.
 */
@EqualsAndHashCode(callSuper = true)
@ToString(callSuper = true)
public class PagedLion8bit extends Lion8bit {
    public PagedLion8bit() {
        paged = true;
    }

    public PagedLion8bit(double learningRate) {
        super(learningRate);
        paged = true;
    }

    public PagedLion8bit(ISchedule learningRateSchedule) {
        super(learningRateSchedule);
        paged = true;
    }

    public PagedLion8bit(double learningRate, double beta1, double beta2) {
        super(learningRate, beta1, beta2);
        paged = true;
    }

    /** A builder starting from a PagedLion8bit (paged on). */
    public static Lion8bit.Builder builder() {
        return new Lion8bit.Builder(new PagedLion8bit());
    }

    @Override
    protected Lion8bit blank() {
        return new PagedLion8bit();
    }
}
