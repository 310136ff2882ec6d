"""Django REST framework under gunicorn: model serializers over the baseline QuerySets
(:mod:`.orm`).

    gunicorn fastdjango_bench.baselines.drf_api:application
"""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fastdjango_bench.baselines.django_settings")
os.environ.setdefault("BENCH_URLCONF", __name__)

from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()

from django.contrib.auth import get_user_model  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.urls import path  # noqa: E402
from rest_framework import serializers  # noqa: E402
from rest_framework.request import Request  # noqa: E402
from rest_framework.response import Response  # noqa: E402
from rest_framework.views import APIView  # noqa: E402

from domain.blog.models import Category, Post, Tag  # noqa: E402
from fastdjango_bench.baselines import orm  # noqa: E402
from fastdjango_bench.baselines.pages import PAGE_SIZE, BadCursor  # noqa: E402


class AuthorSerializer(serializers.ModelSerializer):
    display_name = serializers.CharField(read_only=True)

    class Meta:
        model = get_user_model()
        fields = ["id", "username", "display_name"]


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "slug", "name"]


class TagSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tag
        fields = ["id", "slug", "name"]


class PostSummarySerializer(serializers.ModelSerializer):
    comment_count = serializers.IntegerField(source="n_comments", read_only=True)
    author = AuthorSerializer(read_only=True)
    category = CategorySerializer(read_only=True, allow_null=True)
    tags = TagSerializer(many=True, read_only=True)

    class Meta:
        model = Post
        fields = [
            "id",
            "slug",
            "title",
            "summary",
            "status",
            "published_at",
            "created_at",
            "updated_at",
            "read_time_minutes",
            "view_count",
            "comment_count",
            "author",
            "category",
            "tags",
        ]


class PostSerializer(PostSummarySerializer):
    class Meta(PostSummarySerializer.Meta):
        fields = [*PostSummarySerializer.Meta.fields, "body"]


class PostList(APIView):
    def get(self, request: Request) -> Response:
        try:
            posts = list(orm.after(orm.published_posts(), request.query_params.get("cursor")))
        except BadCursor:
            return Response({"title": "Bad cursor", "status": 400}, status=400)
        items = PostSummarySerializer(posts[:PAGE_SIZE], many=True).data
        return Response({"items": items, "next": orm.next_of(posts)})


class PostDetail(APIView):
    def get(self, request: Request, slug: str) -> Response:
        post = orm.published_posts().filter(slug=slug).first()
        if post is None:
            return Response({"title": "Not Found", "status": 404}, status=404)
        return Response(PostSerializer(post).data)


def health(request: object) -> HttpResponse:
    return HttpResponse("ok")


urlpatterns = [
    path("api/v1/posts", PostList.as_view()),
    path("api/v1/posts/<str:slug>", PostDetail.as_view()),
    path("health", health),
]
