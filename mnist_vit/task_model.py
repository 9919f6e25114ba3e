"""`TaskModel`: a functional Keras model that records the name of the task it solves."""

import keras


@keras.saving.register_keras_serializable(package="mnist_vit")
class TaskModel(keras.Model):
    """A functional model that records the name of the task it solves.

    Built like `keras.Model(inputs, outputs, name=...)` plus `task=`; the
    task name is part of the config, so it survives `.keras` files.

    Args:
        task: str. The `Task`'s name.
    """

    def __init__(self, *args, task=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.task = task

    def get_config(self):
        return {**super().get_config(), "task": self.task}
