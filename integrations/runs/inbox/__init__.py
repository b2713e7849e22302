"""The exception inbox: exceptions opened for failed runs, records, groups and deliveries
(`opening`), and what people do with them — retry, skip, resolve, assign, comment, tag
(`actions`), one record or group of a batch run (`items`), edit-and-resubmit (`resubmit`)
and the same by filter as a background job (`bulk`)."""
