package org.bnb4j.updaters.config;

import lombok.EqualsAndHashCode;
import lombok.ToString;
import org.nd4j.linalg.schedule.ISchedule;

/**
 * bitsandbytes' PagedAdEMAMix8bit: AdEMAMix8bit with {@code paged(true)}, its state in a file-backed mapping the OS
 * pages out when memory runs short (docs/PAGED.md). The same fields and JSON as AdEMAMix8bit, plus the
 * paged settings; {@code pagedDirectory} as there.
 */
@EqualsAndHashCode(callSuper = true)
@ToString(callSuper = true)
public class PagedAdEMAMix8bit extends AdEMAMix8bit {
    public PagedAdEMAMix8bit() {
        paged = true;
    }

    public PagedAdEMAMix8bit(double learningRate) {
        super(learningRate);
        paged = true;
    }

    public PagedAdEMAMix8bit(ISchedule learningRateSchedule) {
        super(learningRateSchedule);
        paged = true;
    }

    /** A builder starting from a PagedAdEMAMix8bit (paged on). */
    public static AdEMAMix8bit.Builder builder() {
        return new AdEMAMix8bit.Builder(new PagedAdEMAMix8bit());
    }

    @Override
    protected AdEMAMix8bit blank() {
        return new PagedAdEMAMix8bit();
    }
}
