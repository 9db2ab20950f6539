"""TaskFlow decorators: ``@task.apimart_video``, whose function returns the request."""
